/**
 * The emulator through the official SDK: batch lifecycle, results of every type, cancel, delete, list
 * pagination, expiry, archiving, the sync endpoint, determinism and stats.
 */
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EmulatorHandle, EmulatorOptions, EmulatorStats } from '../src/emulator';
import { startEmulator } from '../src/emulator';

type BatchRequest = Anthropic.Messages.Batches.BatchCreateParams.Request;
type Result = Anthropic.Messages.Batches.MessageBatchIndividualResponse;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function request(customId: string, params: Record<string, unknown> = {}): BatchRequest {
  return {
    custom_id: customId,
    params: {
      model: 'claude-haiku-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: `secret prompt of ${customId}` }],
      ...params,
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntilEnded(
  client: Anthropic,
  id: string,
  timeoutMs = 5_000,
): Promise<Anthropic.Messages.Batches.MessageBatch> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.messages.batches.retrieve(id);
    if (batch.processing_status === 'ended') return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.processing_status}`);
    await sleep(10);
  }
}

async function results(client: Anthropic, id: string): Promise<Map<string, Result>> {
  const byId = new Map<string, Result>();
  for await (const line of await client.messages.batches.results(id)) byId.set(line.custom_id, line);
  return byId;
}

async function emulator(options: EmulatorOptions): Promise<{ handle: EmulatorHandle; client: Anthropic }> {
  const handle = await startEmulator(options);
  return { handle, client: new Anthropic({ apiKey: handle.apiKey, baseURL: handle.url, maxRetries: 0 }) };
}

function errorType(result: Result | undefined): string | undefined {
  return result?.result.type === 'errored' ? result.result.error.error.type : undefined;
}

describe('emulator: batch lifecycle', () => {
  let handle: EmulatorHandle;
  let client: Anthropic;
  before(async () => {
    // Real time (timeScale 1): the clock barely moves by itself, and handle.advance() steps it exactly.
    ({ handle, client } = await emulator({
      seed: 7,
      latency: { batch: { kind: 'fixed', ms: HOUR_MS }, spread: 0.9 },
      faults: { errorCustomIds: { pattern: '^bad-', type: 'invalid_request_error', message: 'bad by design' } },
    }));
  });
  after(() => handle.close());

  test('in_progress → ended, with succeeded and errored lines', async () => {
    const created = await client.messages.batches.create({
      requests: [request('ok-1'), request('bad-1'), request('zero-1', { max_tokens: 0 })],
    });
    assert.equal(created.type, 'message_batch');
    assert.match(created.id, /^msgbatch_/);
    assert.equal(created.processing_status, 'in_progress');
    assert.deepEqual(created.request_counts, { processing: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 });
    assert.equal(created.ended_at, null);
    assert.equal(created.results_url, null);
    assert.equal(created.cancel_initiated_at, null);
    assert.equal(created.archived_at, null);
    assert.match(created.created_at, TIMESTAMP);
    assert.equal(Date.parse(created.expires_at) - Date.parse(created.created_at), DAY_MS);

    await assert.rejects(client.messages.batches.results(created.id), /No batch `results_url`/);
    await assert.rejects(client.get(`/v1/messages/batches/${created.id}/results`), (err: unknown) => {
      assert.ok(err instanceof Anthropic.NotFoundError);
      assert.match(err.message, /has no available results/);
      return true;
    });

    handle.advance(HOUR_MS);
    const ended = await client.messages.batches.retrieve(created.id);
    assert.equal(ended.processing_status, 'ended');
    assert.deepEqual(ended.request_counts, { processing: 0, succeeded: 1, errored: 2, canceled: 0, expired: 0 });
    assert.match(ended.ended_at!, TIMESTAMP);
    assert.ok(Date.parse(ended.ended_at!) > Date.parse(ended.created_at));
    assert.ok(Date.parse(ended.ended_at!) <= Date.parse(ended.created_at) + HOUR_MS);
    assert.equal(ended.results_url, `${handle.url}/v1/messages/batches/${created.id}/results`);

    const lines = await results(client, created.id);
    assert.deepEqual([...lines.keys()].sort(), ['bad-1', 'ok-1', 'zero-1']);
    const ok = lines.get('ok-1')!.result;
    assert.equal(ok.type, 'succeeded');
    if (ok.type !== 'succeeded') return;
    const message = ok.message;
    assert.match(message.id, /^msg_/);
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.model, 'claude-haiku-4-5');
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.content[0]?.type, 'text');
    const text = message.content[0]?.type === 'text' ? message.content[0].text : '';
    assert.ok(text.length > 0);
    assert.ok(!text.includes('secret prompt'), 'the reply must never echo the prompt');
    assert.equal(message.usage.service_tier, 'batch');
    assert.equal(message.usage.cache_creation_input_tokens, 0);
    assert.equal(message.usage.cache_read_input_tokens, 0);
    assert.ok(message.usage.input_tokens > 0);
    assert.ok(message.usage.output_tokens >= 1 && message.usage.output_tokens <= 64);

    const bad = lines.get('bad-1')!.result;
    assert.equal(bad.type, 'errored');
    if (bad.type === 'errored') {
      assert.equal(bad.error.type, 'error');
      assert.deepEqual(bad.error.error, { type: 'invalid_request_error', message: 'bad by design' });
    }
    const zero = lines.get('zero-1')!.result;
    assert.equal(errorType(lines.get('zero-1')), 'invalid_request_error');
    if (zero.type === 'errored') assert.match(zero.error.error.message, /max_tokens/);
  });

  test('problems inside params are accepted at create and come back errored', async () => {
    const cases: Record<string, Record<string, unknown>> = {
      stream: { stream: true },
      nomessages: { messages: undefined },
      emptymessages: { messages: [] },
      nomodel: { model: undefined },
      unknownmodel: { model: 'gpt-4o' },
      nomaxtokens: { max_tokens: undefined },
      badtemp: { temperature: 3 },
    };
    const created = await client.messages.batches.create({
      requests: [
        ...Object.entries(cases).map(([id, params]) => request(id, params)),
        request('prefixmodel', { model: 'claude-future-9' }),
        request('retiredmodel', { model: 'claude-opus-4-1' }),
        request('knownmodel', { model: 'claude-sonnet-5-5' }),
      ],
    });
    handle.advance(HOUR_MS);
    const lines = await results(client, created.id);
    const expectedField: Record<string, RegExp> = {
      stream: /^stream:/,
      nomessages: /^messages:/,
      emptymessages: /^messages:/,
      nomodel: /^model:/,
      unknownmodel: /^model: gpt-4o/,
      nomaxtokens: /^max_tokens:/,
      badtemp: /^temperature:/,
      // Only the lineup's models are known by default (no prefix rule); a retired one is unknown to requests.
      prefixmodel: /^model: claude-future-9$/,
      retiredmodel: /^model: claude-opus-4-1$/,
    };
    for (const [id, pattern] of Object.entries(expectedField)) {
      const result = lines.get(id)?.result;
      assert.equal(result?.type, 'errored', id);
      if (result?.type === 'errored') {
        assert.equal(result.error.error.type, 'invalid_request_error', id);
        assert.match(result.error.error.message, pattern, id);
      }
    }
    assert.equal(lines.get('knownmodel')?.result.type, 'succeeded');
  });

  test('cancel mid-flight: canceling, then ended with partial results; delete only once ended', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `c-${i}`);
    const created = await client.messages.batches.create({ requests: ids.map((id) => request(id)) });
    handle.advance(HOUR_MS / 2);
    const midway = await client.messages.batches.retrieve(created.id);
    assert.equal(midway.processing_status, 'in_progress');
    assert.equal(midway.request_counts.processing, 30, 'documented rule: all processing until the batch ends');

    const canceling = await client.messages.batches.cancel(created.id);
    assert.equal(canceling.processing_status, 'canceling');
    assert.match(canceling.cancel_initiated_at!, TIMESTAMP);
    assert.equal(canceling.ended_at, null);
    assert.equal((await client.messages.batches.retrieve(created.id)).processing_status, 'canceling');
    assert.equal(
      (await client.messages.batches.cancel(created.id)).processing_status,
      'canceling',
      'cancel twice is harmless',
    );

    await assert.rejects(client.messages.batches.delete(created.id), (err: unknown) => {
      assert.ok(err instanceof Anthropic.BadRequestError);
      assert.equal(err.status, 400);
      assert.equal(err.type, 'invalid_request_error');
      assert.match(err.apiMessage ?? '', /In progress batches cannot be deleted/);
      return true;
    });

    handle.advance(25_000); // the default cancel delay
    const ended = await client.messages.batches.retrieve(created.id);
    assert.equal(ended.processing_status, 'ended');
    const counts = ended.request_counts;
    assert.ok(counts.canceled > 0 && counts.succeeded > 0, JSON.stringify(counts));
    assert.equal(counts.succeeded + counts.canceled, 30);
    assert.equal(counts.processing + counts.errored + counts.expired, 0);
    const cancelToEndMs = Date.parse(ended.ended_at!) - Date.parse(ended.cancel_initiated_at!);
    assert.ok(Math.abs(cancelToEndMs - 25_000) <= 1, `ended ${cancelToEndMs} ms after cancel`);

    const lines = await results(client, created.id);
    const types = [...lines.values()].map((line) => line.result.type);
    assert.equal(types.filter((t) => t === 'canceled').length, counts.canceled);
    assert.equal(types.filter((t) => t === 'succeeded').length, counts.succeeded);

    const deleted = await client.messages.batches.delete(created.id);
    assert.deepEqual(deleted, { id: created.id, type: 'message_batch_deleted' });
    await assert.rejects(client.messages.batches.retrieve(created.id), Anthropic.NotFoundError);
  });

  test('the sync endpoint answers the same message as the batch, with service_tier standard', async () => {
    const params = {
      model: 'claude-haiku-4-5',
      max_tokens: 200,
      messages: [{ role: 'user' as const, content: 'same' }],
    };
    const created = await client.messages.batches.create({ requests: [{ custom_id: 'same-1', params }] });
    handle.advance(HOUR_MS);
    const inBatch = (await results(client, created.id)).get('same-1')!.result;
    assert.equal(inBatch.type, 'succeeded');
    if (inBatch.type !== 'succeeded') return;

    const sync = await client.messages.create(params);
    assert.equal(sync.usage.service_tier, 'standard');
    assert.deepEqual({ ...sync, usage: { ...sync.usage, service_tier: 'batch' } }, inBatch.message);
    assert.equal((await client.messages.create(params)).id, sync.id, 'deterministic');

    const other = await client.messages.create({ ...params, max_tokens: 199 });
    assert.notEqual(other.id, sync.id, 'other params, other message');

    const { data, response } = await client.messages.create(params).withResponse();
    assert.equal(data.id, sync.id);
    assert.match(response.headers.get('request-id') ?? '', /^req_/);

    const stats = handle.stats();
    assert.deepEqual(stats.submissions['same-1'], { batch: 1, sync: 3 });
  });

  // (`stream: true` is no error there: the emulator streams, as the API does.)
  test('the sync endpoint rejects bad params at once with 400', async () => {
    const base = { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user' as const, content: 'x' }] };
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...base, max_tokens: 0 }, /^max_tokens:/],
      [{ ...base, messages: [] }, /^messages:/],
      [{ ...base, model: 'gpt-4o' }, /^model: gpt-4o/],
    ];
    for (const [params, message] of bad) {
      await assert.rejects(
        client.messages.create(params as unknown as Anthropic.Messages.MessageCreateParamsNonStreaming),
        (err: unknown) => {
          assert.ok(err instanceof Anthropic.BadRequestError, String(err));
          assert.equal(err.status, 400);
          assert.equal(err.type, 'invalid_request_error');
          assert.match(err.apiMessage ?? '', message);
          assert.match(err.requestID ?? '', /^req_/);
          return true;
        },
      );
    }
  });
});

describe('emulator: list pagination', () => {
  let handle: EmulatorHandle;
  let client: Anthropic;
  const createdIds: string[] = [];
  before(async () => {
    ({ handle, client } = await emulator({ timeScale: 1e-4 }));
    for (let i = 0; i < 5; i++) {
      createdIds.push((await client.messages.batches.create({ requests: [request(`l-${i}`)] })).id);
    }
  });
  after(() => handle.close());

  test('newest first; the SDK auto-paginates with after_id', async () => {
    const first = await client.messages.batches.list({ limit: 2 });
    assert.deepEqual(
      first.data.map((b) => b.id),
      [createdIds[4], createdIds[3]],
    );
    assert.equal(first.has_more, true);
    assert.equal(first.first_id, createdIds[4]);
    assert.equal(first.last_id, createdIds[3]);

    const all: string[] = [];
    for await (const batch of client.messages.batches.list({ limit: 2 })) all.push(batch.id);
    assert.deepEqual(all, [...createdIds].reverse());

    const older = await client.messages.batches.list({ limit: 2, after_id: createdIds[1]! });
    assert.deepEqual(
      older.data.map((b) => b.id),
      [createdIds[0]],
    );
    assert.equal(older.has_more, false);
  });

  test('before_id pages towards newer batches', async () => {
    const page = await client.messages.batches.list({ limit: 2, before_id: createdIds[0]! });
    assert.deepEqual(
      page.data.map((b) => b.id),
      [createdIds[2], createdIds[1]],
    );
    assert.equal(page.has_more, true);

    const newer: string[] = [];
    for await (const batch of client.messages.batches.list({ limit: 2, before_id: createdIds[0]! }))
      newer.push(batch.id);
    assert.deepEqual(newer.sort(), createdIds.slice(1).sort());
    assert.equal(new Set(newer).size, 4);
  });

  test('default limit is 20; limits outside 1–1000 are refused', async () => {
    const page = await client.messages.batches.list();
    assert.equal(page.data.length, 5);
    assert.equal(page.has_more, false);
    for (const limit of [0, 1001]) {
      await assert.rejects(client.messages.batches.list({ limit }), (err: unknown) => {
        assert.ok(err instanceof Anthropic.BadRequestError);
        assert.match(err.apiMessage ?? '', /^limit: /);
        return true;
      });
    }
  });
});

describe('emulator: time', () => {
  test('live counts move while in progress when liveCounts is on', async () => {
    const { handle, client } = await emulator({
      liveCounts: true,
      latency: { batch: { kind: 'fixed', ms: HOUR_MS }, spread: 0.9 },
    });
    try {
      const created = await client.messages.batches.create({
        requests: Array.from({ length: 20 }, (_, i) => request(`live-${i}`)),
      });
      handle.advance(HOUR_MS / 2);
      const midway = await client.messages.batches.retrieve(created.id);
      assert.equal(midway.processing_status, 'in_progress');
      const { processing, succeeded } = midway.request_counts;
      assert.ok(processing > 0 && succeeded > 0, JSON.stringify(midway.request_counts));
      assert.equal(processing + succeeded, 20);
    } finally {
      await handle.close();
    }
  });

  test('a small timeScale runs nominal hours in real milliseconds', async () => {
    // 1 nominal hour = 360 real ms; spread 0: every request takes the whole hour.
    const { handle, client } = await emulator({
      timeScale: 1e-4,
      latency: { batch: { kind: 'fixed', ms: HOUR_MS }, spread: 0 },
    });
    try {
      const started = performance.now();
      const created = await client.messages.batches.create({ requests: [request('t-1'), request('t-2')] });
      const ended = await waitUntilEnded(client, created.id);
      assert.ok(performance.now() - started >= 300, 'not before the scaled hour');
      const nominalMs = Date.parse(ended.ended_at!) - Date.parse(ended.created_at);
      assert.equal(nominalMs, HOUR_MS);
      assert.equal(ended.request_counts.succeeded, 2);
    } finally {
      await handle.close();
    }
  });

  test('requests not done at expires_at (24 h nominal) expire', async () => {
    // 24 nominal hours = 864 real ms; the batch would need 48 h.
    const { handle, client } = await emulator({
      timeScale: 1e-5,
      latency: { batch: { kind: 'fixed', ms: 2 * DAY_MS }, spread: 0 },
    });
    try {
      const started = performance.now();
      const created = await client.messages.batches.create({ requests: [request('e-1'), request('e-2')] });
      const ended = await waitUntilEnded(client, created.id);
      assert.ok(performance.now() - started >= 800, 'not before the scaled 24 h');
      assert.deepEqual(ended.request_counts, { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 2 });
      assert.equal(ended.ended_at, ended.expires_at);
      const lines = await results(client, created.id);
      assert.deepEqual(
        [...lines.values()].map((l) => l.result.type),
        ['expired', 'expired'],
      );
    } finally {
      await handle.close();
    }
  });

  test('a batch slower than the window ends at expires_at with partial results', async () => {
    // Requests finish between 4.8 h and 48 h nominal: those after 24 h expire.
    const { handle, client } = await emulator({
      timeScale: 1e-5,
      latency: { batch: { kind: 'fixed', ms: 2 * DAY_MS }, spread: 0.9 },
    });
    try {
      const created = await client.messages.batches.create({
        requests: Array.from({ length: 20 }, (_, i) => request(`p-${i}`)),
      });
      const ended = await waitUntilEnded(client, created.id);
      const { succeeded, expired } = ended.request_counts;
      assert.ok(succeeded > 0 && expired > 0, JSON.stringify(ended.request_counts));
      assert.equal(succeeded + expired, 20);
      assert.equal(ended.ended_at, ended.expires_at);
      const types = [...(await results(client, created.id)).values()].map((l) => l.result.type);
      assert.equal(types.filter((t) => t === 'expired').length, expired);
    } finally {
      await handle.close();
    }
  });

  test('results are archived 29 nominal days after created_at', async () => {
    // 29 nominal days = 250 real ms.
    const { handle, client } = await emulator({ timeScale: 1e-7, latency: { batch: { kind: 'fixed', ms: HOUR_MS } } });
    try {
      const created = await client.messages.batches.create({ requests: [request('a-1')] });
      const ended = await waitUntilEnded(client, created.id);
      assert.equal(ended.archived_at, null);
      assert.equal((await results(client, created.id)).size, 1);
      let archived = ended;
      while (archived.archived_at === null) {
        await sleep(20);
        archived = await client.messages.batches.retrieve(created.id);
      }
      assert.equal(Date.parse(archived.archived_at) - Date.parse(archived.created_at), 29 * DAY_MS);
      await assert.rejects(client.messages.batches.results(created.id), Anthropic.NotFoundError);
    } finally {
      await handle.close();
    }
  });
});

describe('emulator: determinism and stats', () => {
  test('the same seed gives the same fates, order and messages', async () => {
    const options: EmulatorOptions = {
      timeScale: 1e-5,
      seed: 42,
      latency: { batch: { kind: 'fixed', ms: HOUR_MS } },
      faults: { resultErrors: { api_error: 0.3 } },
    };
    const runs: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const { handle, client } = await emulator(options);
      try {
        const created = await client.messages.batches.create({
          requests: Array.from({ length: 20 }, (_, i) => request(`d-${i}`)),
        });
        await waitUntilEnded(client, created.id);
        const lines: string[] = [];
        for await (const line of await client.messages.batches.results(created.id)) lines.push(JSON.stringify(line));
        runs.push(lines);
      } finally {
        await handle.close();
      }
    }
    assert.deepEqual(runs[0], runs[1]);
    assert.ok(runs[0]!.some((line) => line.includes('"api_error"')));
    assert.ok(runs[0]!.some((line) => line.includes('"succeeded"')));
    const positions = runs[0]!.map((line) => Number((JSON.parse(line) as Result).custom_id.slice(2)));
    assert.notDeepEqual(
      positions,
      positions.slice().sort((a, b) => a - b),
      'lines are shuffled',
    );
  });

  test('POST /_emulator/advance moves the clock (no API key needed)', async () => {
    const { handle, client } = await emulator({ latency: { batch: { kind: 'fixed', ms: HOUR_MS } } });
    try {
      const created = await client.messages.batches.create({ requests: [request('adv-1')] });
      const bad = await fetch(`${handle.url}/_emulator/advance`, { method: 'POST', body: '{"ms":-1}' });
      assert.equal(bad.status, 400);
      assert.equal((await client.messages.batches.retrieve(created.id)).processing_status, 'in_progress');
      const response = await fetch(`${handle.url}/_emulator/advance`, {
        method: 'POST',
        body: JSON.stringify({ ms: HOUR_MS }),
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('request-id') ?? '', /^req_/);
      assert.equal((await client.messages.batches.retrieve(created.id)).processing_status, 'ended');
    } finally {
      await handle.close();
    }
  });

  test('stats count calls and submissions per custom_id, in create order; reset clears them', async () => {
    const { handle, client } = await emulator({ timeScale: 1e-4 });
    try {
      const first = await client.messages.batches.create({ requests: [request('s-1'), request('s-2')] });
      const second = await client.messages.batches.create({ requests: [request('s-2'), request('s-3')] });
      await client.messages.batches.retrieve(first.id);
      await client.messages.create({ ...request('x').params, max_tokens: 5 });
      await client.messages.create(request('s-3').params, { headers: { 'x-sluice-custom-id': 's-3' } });

      const response = await fetch(`${handle.url}/_emulator/stats`); // no API key needed
      assert.equal(response.status, 200);
      const stats = (await response.json()) as EmulatorStats;
      assert.deepEqual(stats, handle.stats());
      assert.equal(stats.calls.create, 2);
      assert.equal(stats.calls.retrieve, 1);
      assert.equal(stats.calls.messages, 2);
      assert.equal(stats.batches, 2);
      assert.equal(stats.requestsSubmitted, 4);
      assert.deepEqual(stats.submissions['s-1'], { batch: 1, sync: 0 });
      assert.deepEqual(stats.submissions['s-2'], { batch: 2, sync: 0 });
      assert.deepEqual(stats.submissions['s-3'], { batch: 1, sync: 1 });
      assert.deepEqual(
        stats.createLog.map((entry) => [entry.batchId, entry.requestCount, entry.firstCustomId]),
        [
          [first.id, 2, 's-1'],
          [second.id, 2, 's-2'],
        ],
      );
      assert.equal(stats.createLog[0]!.at, first.created_at);

      const reset = await fetch(`${handle.url}/_emulator/reset`, { method: 'POST' });
      assert.equal(reset.status, 200);
      const cleared = handle.stats();
      assert.equal(cleared.batches, 0);
      assert.equal(cleared.calls.create, 0);
      assert.deepEqual(cleared.submissions, {});
      await assert.rejects(client.messages.batches.retrieve(first.id), Anthropic.NotFoundError);
    } finally {
      await handle.close();
    }
  });
});
