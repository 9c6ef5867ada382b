/**
 * The emulator's prompt cache, through the official SDK: in one batch the first request of a marked prefix writes
 * it and the rest read it, input_tokens the remainder; a prefix under the model's minimum caches nothing; entries
 * live their TTL on the emulator's clock (a 5-minute entry is gone ten minutes later, a 1-hour one is read); the
 * synchronous endpoint shares the cache; and the API's breakpoint limits come back as invalid_request_error.
 */
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EmulatorHandle } from '../src/emulator';
import { startEmulator } from '../src/emulator';

type Result = Anthropic.Messages.Batches.MessageBatchIndividualResponse;
type Usage = Anthropic.Messages.Usage;

const MINUTE_MS = 60_000;
const MODEL = 'claude-sonnet-5-5'; // 1,024 tokens at least (src/emulator/prompt-cache.ts)
const LONG = 'Follow the house rules for every answer. '.repeat(120); // about 1,250 tokens
const mark = (ttl: '5m' | '1h') => ({ type: 'ephemeral' as const, ttl });

function request(id: string, system: string, ttl: '5m' | '1h' = '1h'): Anthropic.Messages.Batches.BatchCreateParams.Request {
  return {
    custom_id: id,
    params: {
      model: MODEL,
      max_tokens: 32,
      system: [{ type: 'text', text: system, cache_control: mark(ttl) }],
      messages: [{ role: 'user', content: `question ${id}` }],
    },
  };
}

describe('emulator: the prompt cache', () => {
  let handle: EmulatorHandle;
  let client: Anthropic;
  before(async () => {
    // Real time: the clock only moves by handle.advance(); every request of a batch finishes at the same instant, so
    // "first" is the first in the batch.
    handle = await startEmulator({ timeScale: 1, latency: { batch: { kind: 'fixed', ms: MINUTE_MS }, spread: 0 } });
    client = new Anthropic({ apiKey: handle.apiKey, baseURL: handle.url, maxRetries: 0 });
  });
  after(() => handle.close());

  async function run(requests: Anthropic.Messages.Batches.BatchCreateParams.Request[]): Promise<Map<string, Usage>> {
    const batch = await client.messages.batches.create({ requests });
    handle.advance(MINUTE_MS);
    const usage = new Map<string, Usage>();
    for await (const line of (await client.messages.batches.results(batch.id)) as AsyncIterable<Result>) {
      assert.equal(line.result.type, 'succeeded', JSON.stringify(line.result));
      if (line.result.type === 'succeeded') usage.set(line.custom_id, line.result.message.usage);
    }
    return usage;
  }

  test('in one batch the first of a prefix writes it, the others read it, and input_tokens is the rest', async () => {
    const other = 'A different preamble entirely, for the second group. '.repeat(100);
    const usage = await run([request('a1', LONG), request('b1', other), request('a2', LONG), request('a3', LONG), request('b2', other)]);
    const a1 = usage.get('a1')!;
    assert.ok(a1.cache_creation_input_tokens! >= 1_024, JSON.stringify(a1));
    assert.equal(a1.cache_read_input_tokens, 0);
    assert.deepEqual(a1.cache_creation, { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: a1.cache_creation_input_tokens });
    for (const id of ['a2', 'a3']) {
      const u = usage.get(id)!;
      assert.equal(u.cache_read_input_tokens, a1.cache_creation_input_tokens, `${id} reads what a1 wrote`);
      assert.equal(u.cache_creation_input_tokens, 0);
      assert.equal(u.input_tokens, a1.input_tokens, 'the rest of the prompt is plain input, as for a1');
      assert.ok(u.input_tokens < 100 && u.input_tokens > 0);
    }
    assert.ok(usage.get('b1')!.cache_creation_input_tokens! > 0, 'another prefix is its own entry');
    assert.equal(usage.get('b2')!.cache_read_input_tokens, usage.get('b1')!.cache_creation_input_tokens);
  });

  test('a prefix under the model minimum caches nothing: every token is plain input', async () => {
    const usage = await run([request('s1', 'Be brief.'), request('s2', 'Be brief.')]);
    for (const u of usage.values()) {
      assert.equal(u.cache_creation_input_tokens, 0);
      assert.equal(u.cache_read_input_tokens, 0);
      assert.ok(u.input_tokens > 0);
    }
  });

  test('entries live their TTL: 5 minutes are gone 10 minutes later, 1 hour is still read', async () => {
    const five = `Five-minute rules. ${LONG}`;
    const hour = `One-hour rules. ${LONG}`;
    const first = await run([request('f1', five, '5m'), request('h1', hour, '1h')]);
    assert.ok(first.get('f1')!.cache_creation!.ephemeral_5m_input_tokens > 0);
    handle.advance(10 * MINUTE_MS);
    const later = await run([request('f2', five, '5m'), request('h2', hour, '1h')]);
    assert.equal(later.get('f2')!.cache_read_input_tokens, 0, 'the 5-minute entry expired');
    assert.equal(later.get('f2')!.cache_creation_input_tokens, first.get('f1')!.cache_creation_input_tokens, 'written again');
    assert.equal(later.get('h2')!.cache_read_input_tokens, first.get('h1')!.cache_creation_input_tokens, 'the 1-hour entry is read');
  });

  test('the synchronous endpoint uses the same cache', async () => {
    const system = `Synchronous rules. ${LONG}`;
    const call = () => client.messages.create(request('x', system).params);
    const one = await call();
    const two = await call();
    assert.ok(one.usage.cache_creation_input_tokens! > 0);
    assert.equal(two.usage.cache_read_input_tokens, one.usage.cache_creation_input_tokens);
    assert.equal(two.usage.cache_creation_input_tokens, 0);
  });

  test('five breakpoints, or 1 hour after 5 minutes, come back errored as the API words it', async () => {
    const five = request('five', LONG);
    five.params.system = [1, 2, 3, 4, 5].map((i) => ({ type: 'text' as const, text: `part ${i}`, cache_control: mark('1h') }));
    const order = request('order', LONG);
    order.params.system = [
      { type: 'text', text: 'short', cache_control: mark('5m') },
      { type: 'text', text: 'long', cache_control: mark('1h') },
    ];
    const batch = await client.messages.batches.create({ requests: [five, order] });
    handle.advance(MINUTE_MS);
    const errors = new Map<string, string>();
    for await (const line of (await client.messages.batches.results(batch.id)) as AsyncIterable<Result>) {
      if (line.result.type === 'errored') errors.set(line.custom_id, `${line.result.error.error.type}: ${line.result.error.error.message}`);
    }
    assert.equal(errors.get('five'), 'invalid_request_error: A maximum of 4 blocks with cache_control may be provided. Found 5.');
    assert.match(errors.get('order') ?? '', /^invalid_request_error: .*ttl='1h' must not come after .*ttl='5m'/);
  });
});
