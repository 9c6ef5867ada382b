/**
 * The emulator refuses what the Messages API refuses, the way the API does, through the official SDK: every bad line
 * of the request corpus (test/fixtures/bad-input/expected-requests.json) sent as it is comes back `errored` with
 * invalid_request_error (a duplicate JSON key is the exception: the API keeps the last value, as JSON.parse does),
 * every valid-but-tricky line succeeds, POST /v1/messages answers 400 with the same wording, and the Models API is
 * served with pagination, lifecycle filter and retrieve.
 */
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EmulatorHandle } from '../src/emulator';
import { startEmulator } from '../src/emulator';

type BatchRequest = Anthropic.Messages.Batches.BatchCreateParams.Request;
type Result = Anthropic.Messages.Batches.MessageBatchIndividualResponse;
interface Case {
  kind: string;
  defaults?: Record<string, unknown>;
  issues?: { line: number }[];
  requests?: [string, number][];
}

const CORPUS = path.join(__dirname, 'fixtures', 'bad-input');
const manifest = JSON.parse(readFileSync(path.join(CORPUS, 'expected-requests.json'), 'utf8')) as { bad: Record<string, Case>; good: Record<string, Case> };
const DEFAULTS = (JSON.parse(readFileSync(path.join(CORPUS, 'expected.json'), 'utf8')) as { defaults: Record<string, unknown> }).defaults;
/** The API takes the last of two equal keys; Sluice refuses them on its own account. */
const API_ACCEPTS = new Set(['duplicate-keys.jsonl']);
const DAY_MS = 86_400_000;

/** Each line of a fixture as the API would get it: the job defaults merged under the line's params. */
function linesOf(file: string, c: Case): { line: number; params: Record<string, unknown> }[] {
  const text = readFileSync(path.join(CORPUS, file), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const value = JSON.parse(l) as { params: Record<string, unknown> };
      return { line: i + 1, params: { ...(c.defaults ?? DEFAULTS), ...value.params } };
    });
}

describe('emulator: requests the API refuses', () => {
  let handle: EmulatorHandle;
  let client: Anthropic;
  before(async () => {
    handle = await startEmulator({});
    client = new Anthropic({ apiKey: handle.apiKey, baseURL: handle.url, maxRetries: 0 });
  });
  after(() => handle.close());

  async function runBatch(requests: BatchRequest[]): Promise<Map<string, Result['result']>> {
    const batch = await client.messages.batches.create({ requests });
    handle.advance(DAY_MS);
    const out = new Map<string, Result['result']>();
    for await (const r of await client.messages.batches.results(batch.id)) out.set(r.custom_id, r.result);
    return out;
  }

  test('every bad line of the corpus comes back errored with invalid_request_error; no prompt text in a message', async () => {
    const requests: BatchRequest[] = [];
    const expectErrored = new Map<string, boolean>();
    for (const [file, c] of Object.entries(manifest.bad)) {
      const bad = new Set(c.issues!.map((i) => i.line));
      for (const { line, params } of linesOf(file, c)) {
        const id = `${file.replace(/\.jsonl$/, '').replace(/[^a-zA-Z0-9_-]/g, '_')}-${line}`;
        requests.push({ custom_id: id, params } as unknown as BatchRequest);
        expectErrored.set(id, bad.has(line) && !API_ACCEPTS.has(file));
      }
    }
    assert.ok(requests.length >= 60, `${requests.length} requests`);
    const results = await runBatch(requests);
    const wrong = [...expectErrored].filter(([id, errored]) => results.get(id)?.type !== (errored ? 'errored' : 'succeeded'));
    assert.deepEqual(wrong.map(([id]) => `${id}: ${JSON.stringify(results.get(id)).slice(0, 200)}`), []);
    for (const id of expectErrored.keys()) {
      const r = results.get(id);
      if (r?.type === 'errored') {
        assert.equal(r.error.error.type, 'invalid_request_error', id);
        assert.doesNotMatch(r.error.error.message, /Say hello/, id);
      }
    }
  });

  test('every valid-but-tricky line succeeds, in a batch and on POST /v1/messages', async () => {
    const requests: BatchRequest[] = [];
    for (const [file, c] of Object.entries(manifest.good)) {
      for (const { line, params } of linesOf(file, c)) requests.push({ custom_id: c.requests![line - 1]![0], params } as unknown as BatchRequest);
    }
    const results = await runBatch(requests);
    for (const r of requests) assert.equal(results.get(r.custom_id)?.type, 'succeeded', r.custom_id);
    for (const r of requests) {
      // An explicit timeout: the SDK otherwise refuses a non-streaming call with a large max_tokens.
      const message = await client.messages.create({ ...r.params, stream: false }, { timeout: 60_000 });
      assert.equal(message.type, 'message', r.custom_id);
    }
  });

  test('the API\'s wording, on POST /v1/messages as a 400 and in a batch as the errored line', async () => {
    const base = { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };
    const cases: [Record<string, unknown>, string][] = [
      [{ max_token: 100 }, 'max_token: Extra inputs are not permitted'],
      [{ top_p: 2 }, 'top_p: Input should be less than or equal to 1'],
      [{ top_k: -1 }, 'top_k: Input should be greater than or equal to 0'],
      [{ stop_sequences: 'END' }, 'stop_sequences: Input should be a valid list'],
      [{ metadata: { user: 'u' } }, 'metadata.user: Extra inputs are not permitted'],
      [{ messages: [{ role: 'user', content: '' }] }, 'messages.0: all messages must have non-empty content except for the optional final assistant message'],
      [{ messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] }, 'messages: text content blocks must be non-empty'],
      [{ messages: [{ role: 'user', content: 'hi', name: 'x' }] }, 'messages.0.name: Extra inputs are not permitted'],
      [{ tools: [{ name: 'a', input_schema: { type: 'object' } }, { name: 'a', input_schema: { type: 'object' } }] }, 'tools: Tool names must be unique.'],
      [{ thinking: { type: 'enabled', budget_tokens: 512 }, max_tokens: 4096 }, 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024'],
      [
        { thinking: { type: 'enabled', budget_tokens: 2048 }, max_tokens: 2048 },
        '`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size',
      ],
      [{ max_tokens: 100_000 }, 'max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-haiku-4-5'],
      [{ model: 'claude-sonnet-4-5' }, 'model: claude-sonnet-4-5'],
    ];
    const requests = cases.map(([extra], i) => ({ custom_id: `w${i}`, params: { ...base, ...extra } }) as unknown as BatchRequest);
    const results = await runBatch(requests);
    for (const [i, [extra, message]] of cases.entries()) {
      const r = results.get(`w${i}`);
      assert.ok(r?.type === 'errored', `w${i}`);
      assert.equal(r.error.error.message, message);
      await assert.rejects(client.messages.create({ ...base, ...extra } as never, { timeout: 60_000 }), (err: unknown) => {
        assert.ok(err instanceof Anthropic.BadRequestError, String(err));
        assert.equal(err.type, 'invalid_request_error');
        assert.equal(err.apiMessage, message);
        return true;
      });
    }
  });
});

describe('emulator: the Models API', () => {
  let handle: EmulatorHandle;
  let client: Anthropic;
  before(async () => {
    handle = await startEmulator({
      models: {
        lineup: [
          { id: 'claude-new-1', maxTokens: 8000, manualThinking: false, fixedSampling: true },
          { id: 'claude-mid-1', maxTokens: 2000 },
          { id: 'claude-old-1', lifecycle: 'retired', retiresAt: '2026-06-01T00:00:00Z' },
        ],
      },
    });
    client = new Anthropic({ apiKey: handle.apiKey, baseURL: handle.url, maxRetries: 0 });
  });
  after(() => handle.close());

  test('lists every model across pages, filters by lifecycle, and retrieves one', async () => {
    const all: Anthropic.Models.ModelInfo[] = [];
    for await (const m of client.models.list({ limit: 1 })) all.push(m);
    assert.deepEqual(all.map((m) => [m.id, m.lifecycle, m.max_tokens]), [
      ['claude-new-1', 'active', 8000],
      ['claude-mid-1', 'active', 2000],
      ['claude-old-1', 'retired', null],
    ]);
    assert.equal(all[0]!.capabilities?.thinking.types.enabled.supported, false);
    assert.equal(all[2]!.retires_at, '2026-06-01T00:00:00Z');
    const retired: string[] = [];
    for await (const m of client.models.list({ lifecycle: ['retired'] })) retired.push(m.id);
    assert.deepEqual(retired, ['claude-old-1']);
    assert.equal((await client.models.retrieve('claude-mid-1')).max_tokens, 2000);
    await assert.rejects(client.models.retrieve('claude-none'), Anthropic.NotFoundError);
  });

  test('requests are checked against the configured lineup', async () => {
    const ask = (params: Record<string, unknown>) =>
      client.messages.create({ max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], ...params } as never);
    assert.equal((await ask({ model: 'claude-mid-1', temperature: 0.3 })).type, 'message');
    await assert.rejects(ask({ model: 'claude-new-1', temperature: 0.3 }), /temperature: This model does not support setting `temperature`/);
    await assert.rejects(ask({ model: 'claude-new-1', max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 } }), /Manual extended thinking is not supported on claude-new-1/);
    await assert.rejects(ask({ model: 'claude-old-1' }), /model: claude-old-1/);
    await assert.rejects(ask({ model: 'claude-mid-1', max_tokens: 2001 }), /max_tokens: 2001 > 2000/);
  });
});
