/**
 * Injected faults, observed through the official SDK: raw HTTP errors (maxRetries 0), the SDK's own retries,
 * slow answers, connection resets, the transient 404 after create, cut result streams, errored and expired
 * result lines, and reproducibility by seed.
 */
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EmulatorHandle, EmulatorOptions } from '../src/emulator';
import { startEmulator } from '../src/emulator';

type BatchRequest = Anthropic.Messages.Batches.BatchCreateParams.Request;
type Faults = NonNullable<EmulatorOptions['faults']>;

const HOUR_MS = 3_600_000;

function request(customId: string): BatchRequest {
  return {
    custom_id: customId,
    params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] },
  };
}

const requests = (n: number, prefix = 'r'): BatchRequest[] =>
  Array.from({ length: n }, (_, i) => request(`${prefix}-${i}`));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `body` against a fresh emulator (1 nominal minute of latency = 6 real ms) and closes it. */
async function withEmulator(
  faults: Faults,
  body: (ctx: { handle: EmulatorHandle; client: Anthropic }) => Promise<void>,
  options: EmulatorOptions & { maxRetries?: number; timeoutMs?: number } = {},
): Promise<void> {
  const { maxRetries = 0, timeoutMs, ...emulatorOptions } = options;
  const handle = await startEmulator({
    timeScale: 1e-4,
    latency: { batch: { kind: 'fixed', ms: 60_000 } },
    ...emulatorOptions,
    faults,
  });
  const client = new Anthropic({
    apiKey: handle.apiKey,
    baseURL: handle.url,
    maxRetries,
    ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
  });
  try {
    await body({ handle, client });
  } finally {
    await handle.close();
  }
}

async function waitUntilEnded(client: Anthropic, id: string): Promise<Anthropic.Messages.Batches.MessageBatch> {
  for (let i = 0; i < 500; i++) {
    const batch = await client.messages.batches.retrieve(id);
    if (batch.processing_status === 'ended') return batch;
    await sleep(10);
  }
  throw new Error(`batch ${id} did not end`);
}

const HTTP_FAULTS = [
  { fault: 'rateLimit', status: 429, type: 'rate_limit_error', errorClass: Anthropic.RateLimitError },
  { fault: 'apiError', status: 500, type: 'api_error', errorClass: Anthropic.InternalServerError },
  { fault: 'overloaded', status: 529, type: 'overloaded_error', errorClass: Anthropic.InternalServerError },
  { fault: 'timeout', status: 504, type: 'timeout_error', errorClass: Anthropic.InternalServerError },
] as const;

for (const { fault, status, type, errorClass } of HTTP_FAULTS) {
  test(`${fault}: ${status} ${type} on the chosen endpoints only`, async () => {
    await withEmulator(
      { [fault]: { rate: 1, endpoints: ['retrieve'], retryAfterSeconds: 3 } },
      async ({ client, handle }) => {
        const batch = await client.messages.batches.create({ requests: requests(1) });
        await assert.rejects(client.messages.batches.retrieve(batch.id), (err: unknown) => {
          assert.ok(err instanceof errorClass, String(err));
          assert.equal(err.status, status);
          assert.equal(err.type, type);
          assert.match(err.requestID ?? '', /^req_/);
          assert.equal(err.headers?.get('retry-after'), '3');
          return true;
        });
        assert.equal((await client.messages.batches.list()).data.length, 1, 'list is not faulted');
        assert.equal(handle.stats().calls.retrieve, 1);
      },
    );
  });
}

test('rateLimit sends retry-after 1 s by default', async () => {
  await withEmulator({ rateLimit: { rate: 1 } }, async ({ client }) => {
    await assert.rejects(client.messages.batches.list(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.RateLimitError);
      assert.equal(err.headers.get('retry-after'), '1');
      return true;
    });
  });
});

test("the SDK's retry on 429 honours retry-after", async () => {
  // Two 429s with retry-after 0.1 s: about 0.2 s. The SDK's own backoff would take at least 1.1 s.
  const faults: Faults = { rateLimit: { rate: 1, maxTimes: 2, retryAfterSeconds: 0.1, endpoints: ['list'] } };
  await withEmulator(
    faults,
    async ({ client, handle }) => {
      const started = performance.now();
      const page = await client.messages.batches.list();
      const elapsedMs = performance.now() - started;
      assert.deepEqual(page.data, []);
      assert.equal(handle.stats().calls.list, 3);
      assert.ok(elapsedMs >= 190 && elapsedMs < 1_000, `took ${elapsedMs} ms`);
    },
    { maxRetries: 2 },
  );
});

test("the SDK's retry on 529 gets the batch created once", async () => {
  await withEmulator(
    { overloaded: { rate: 1, maxTimes: 1, endpoints: ['create'] } },
    async ({ client, handle }) => {
      const batch = await client.messages.batches.create({ requests: requests(2) });
      const stats = handle.stats();
      assert.equal(stats.calls.create, 2);
      assert.equal(stats.batches, 1);
      assert.deepEqual(
        stats.createLog.map((entry) => entry.batchId),
        [batch.id],
      );
      assert.deepEqual(stats.submissions['r-0'], { batch: 1, sync: 0 });
    },
    { maxRetries: 2 },
  );
});

test('slow: responses are delayed by delayMs', async () => {
  await withEmulator({ slow: { rate: 1, delayMs: 300, endpoints: ['list'] } }, async ({ client }) => {
    const started = performance.now();
    await client.messages.batches.list();
    assert.ok(performance.now() - started >= 290);
    await assert.rejects(client.messages.batches.list({}, { timeout: 100 }), Anthropic.APIConnectionTimeoutError);
  });
});

test('connectionReset before: the SDK sees a connection error and nothing happened', async () => {
  await withEmulator(
    { connectionReset: { rate: 1, maxTimes: 1, endpoints: ['create'] } },
    async ({ client, handle }) => {
      await assert.rejects(client.messages.batches.create({ requests: requests(1) }), Anthropic.APIConnectionError);
      assert.equal(handle.stats().batches, 0);
      await client.messages.batches.create({ requests: requests(1) });
      assert.equal(handle.stats().batches, 1);
    },
  );
});

test('connectionReset after: the batch was created, the response lost, and a retry pays twice', async () => {
  await withEmulator(
    { connectionReset: { rate: 1, maxTimes: 1, phase: 'after', endpoints: ['create'] } },
    async ({ client, handle }) => {
      await client.messages.batches.create({ requests: requests(1) });
      const stats = handle.stats();
      assert.equal(stats.calls.create, 2);
      assert.equal(stats.batches, 2);
      assert.deepEqual(stats.submissions['r-0'], { batch: 2, sync: 0 });
    },
    { maxRetries: 1 },
  );
});

test('notFoundAfterCreate: a fresh batch is 404 for withinMs, then found', async () => {
  await withEmulator({ notFoundAfterCreate: { withinMs: 600 } }, async ({ client }) => {
    const batch = await client.messages.batches.create({ requests: requests(1) });
    await assert.rejects(client.messages.batches.retrieve(batch.id), Anthropic.NotFoundError);
    assert.deepEqual(
      (await client.messages.batches.list()).data.map((b) => b.id),
      [batch.id],
      'list is unaffected',
    );
    await sleep(620);
    assert.equal((await client.messages.batches.retrieve(batch.id)).id, batch.id);
  });
});

test('resultsCut: the SDK iteration throws after the lines sent; the next download is whole', async () => {
  await withEmulator({ resultsCut: { rate: 1, afterLines: 3, maxTimes: 1 } }, async ({ client, handle }) => {
    const batch = await client.messages.batches.create({ requests: requests(10) });
    await waitUntilEnded(client, batch.id);
    const received: string[] = [];
    await assert.rejects(async () => {
      for await (const line of await client.messages.batches.results(batch.id)) received.push(line.custom_id);
    });
    assert.equal(received.length, 3);
    const all: string[] = [];
    for await (const line of await client.messages.batches.results(batch.id)) all.push(line.custom_id);
    assert.equal(new Set(all).size, 10);
    assert.equal(handle.stats().calls.results, 2);
  });
});

test('resultErrors and expiredRate: errored lines by type, and expired requests', async () => {
  const faults: Faults = { resultErrors: { overloaded_error: 0.25, api_error: 0.25 }, expiredRate: 0.2 };
  // A 2 h nominal window = 720 real ms: batches with expired requests end at expires_at.
  await withEmulator(
    faults,
    async ({ client }) => {
      const batch = await client.messages.batches.create({ requests: requests(60) });
      const ended = await waitUntilEnded(client, batch.id);
      const counts = ended.request_counts;
      assert.ok(counts.errored > 0 && counts.expired > 0 && counts.succeeded > 0, JSON.stringify(counts));
      assert.equal(ended.ended_at, ended.expires_at);
      const errorTypes = new Map<string, number>();
      const types = new Map<string, number>();
      for await (const line of await client.messages.batches.results(batch.id)) {
        types.set(line.result.type, (types.get(line.result.type) ?? 0) + 1);
        if (line.result.type === 'errored') {
          const type = line.result.error.error.type;
          errorTypes.set(type, (errorTypes.get(type) ?? 0) + 1);
        }
      }
      assert.deepEqual([...errorTypes.keys()].sort(), ['api_error', 'overloaded_error']);
      assert.equal(types.get('errored'), counts.errored);
      assert.equal(types.get('expired'), counts.expired);
      assert.equal(types.get('succeeded'), counts.succeeded);
    },
    { windowMs: 2 * HOUR_MS },
  );
});

test('faults are reproducible by seed', async () => {
  const pattern = async (seed: number): Promise<number[]> => {
    const statuses: number[] = [];
    await withEmulator(
      { apiError: { rate: 0.5, endpoints: ['list'] } },
      async ({ client }) => {
        for (let i = 0; i < 24; i++) {
          try {
            await client.messages.batches.list();
            statuses.push(200);
          } catch (err) {
            statuses.push(err instanceof Anthropic.APIError ? Number(err.status) : 0);
          }
        }
      },
      { seed },
    );
    return statuses;
  };
  const first = await pattern(3);
  assert.ok(first.includes(200) && first.includes(500));
  assert.deepEqual(await pattern(3), first);
  assert.notDeepEqual(await pattern(4), first);
});
