// When the API misbehaves: a bad key (401) stops the job at once with a clear message instead of retrying forever;
// a create refused with 400 stops it with the API's own message, and the
// batch already in flight is reported as sent, not as never run; a batch that stays `canceling` keeps a canceled job
// waiting only until the batch ends (and, once src/workflows/job.ts bounds that wait, no longer than the bound).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { cancelJob, jobProgress, startJob, waitForJob } from '../src/client/jobs';
import { JobOptionsSchema, jobKeys, type JobOptionsInput, type JobSpec, type NormalizedRequest, type OutcomeLine } from '../src/domain/job';
import { sluiceJob } from '../src/workflows';
import { createSluiceWorker } from '../src/worker';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';
import { sharedWorkflowBundlePath } from './helpers/workflow-bundle';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 64 };

/** Polls `probe` until it gives a value (not undefined, false or 0), failing with `what` after `timeoutMs`. */
async function until<T>(what: string, probe: () => T | undefined | false | 0, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false && value !== 0) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function readOutcomes(stack: TestStack, jobId: string): Promise<OutcomeLine[]> {
  const out: OutcomeLine[] = [];
  for await (const l of stack.store.readLines(jobKeys.output(jobId, 'results.jsonl'))) out.push(JSON.parse(l) as OutcomeLine);
  return out;
}

/** The message a user sees for a failed job (what `sluice run` prints after "The job failed: "). */
async function failureOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    let e: unknown = err;
    while (e instanceof Error && e.cause instanceof Error) e = e.cause;
    return (e as Error).message;
  }
  assert.fail('the job did not fail');
}

describe('a bad API key (401)', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  test('stops the job at once with a message naming ANTHROPIC_API_KEY; nothing is retried', { timeout: 60_000 }, async () => {
    const worker = await createSluiceWorker({
      workflowBundlePath: await sharedWorkflowBundlePath(),
      connection: stack.env.nativeConnection,
      namespace: stack.env.namespace ?? 'default',
      taskQueue: stack.taskQueue,
      apiKey: 'sk-wrong-key',
      baseURL: stack.emulator.url,
      storeDir: stack.storeDir,
    });
    const client = stack.env.client;
    const { workflowId } = await startJob({
      client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file: await writeJobInput(250),
      defaults: DEFAULTS,
      options: { ...FAST_POLL, maxBatchesInFlight: 1 },
    });
    const startedAt = Date.now();
    // The progress query is asked while the worker runs: a closed job's query is answered by replaying it on a worker
    // (asked after the worker stopped, it waited 30 s for one and timed out).
    const { message, phase } = await worker.runUntil(async () => {
      const message = await failureOf(waitForJob(client, workflowId));
      return { message, phase: (await jobProgress(client, workflowId)).phase };
    });
    assert.match(
      message,
      /^Job .* stopped: create batch for s000000 \(attempt 1\): authentication failed \(authentication_error\): check ANTHROPIC_API_KEY — invalid x-api-key$/,
    );
    assert.ok(Date.now() - startedAt < 20_000, 'stopped at once');
    assert.equal(phase, 'failed');
    const stats = stack.emulator.stats();
    assert.equal(stats.calls.create, 1, 'one refused create, not retried, nothing else sent');
    assert.equal(stats.batches, 0);
    const results = await readOutcomes(stack, workflowId);
    assert.equal(results.length, 250, 'results.jsonl still has every request');
    assert.ok(results.every((r) => r.status === 'not_run' && r.attempts === 0 && r.batch_ids.length === 0));
  });
});

describe('a create refused with 400', () => {
  let stack: TestStack;
  let running: Promise<void>;
  before(async () => {
    // Batches take 60 s (real): the first one is still in flight when the second create is refused.
    // The second create is refused with 400 (aimed at that call: wire ids keep even a duplicate custom_id unique).
    stack = await startStack({
      timeScale: 0.001,
      latency: { batch: { kind: 'fixed', ms: 60_000_000 } },
      faults: { targeted: [{ endpoint: 'create', calls: [2], action: 'error', errorType: 'invalid_request_error' }] },
    });
    running = (await stack.startWorker()).run();
  });
  after(async () => {
    await stack.close();
    await running;
  });

  test("stops the job with the API's message; the batch in flight is reported as sent", { timeout: 60_000 }, async () => {
    const jobId = `refused-${Date.now()}`;
    const ids = ['one', 'two', 'three', 'four'];
    const input: NormalizedRequest[] = ids.map((custom_id, i) => ({
      custom_id,
      line: i + 1,
      params: { ...DEFAULTS, messages: [{ role: 'user', content: `Question ${i}` }] },
    }));
    await stack.store.writeLines(jobKeys.input(jobId), input.map((r) => JSON.stringify(r)));
    // One submission at a time: shard 1 is created (and in flight) before shard 2 is refused.
    const options: JobOptionsInput = { ...FAST_POLL, batchSize: 2, activityConcurrency: 1 };
    const spec: JobSpec = { jobId, name: 'refused', inputKey: jobKeys.input(jobId), requestCount: 4, options: JobOptionsSchema.parse(options) };
    const handle = await stack.env.client.workflow.start(sluiceJob, { workflowId: jobId, taskQueue: stack.taskQueue, args: [{ spec }] });

    const message = await failureOf(handle.result());
    assert.ok(
      message.startsWith(`Job ${jobId} stopped: create batch for s000001 (attempt 1): bad request (invalid_request_error): the API refused it as sent — `),
      message,
    );
    const stats = stack.emulator.stats();
    assert.equal(stats.calls.create, 2, 'the refused create is not retried');
    assert.equal(stats.batches, 1);
    const inFlight = stats.createLog[0]!.batchId;
    const results = await readOutcomes(stack, jobId);
    assert.deepEqual(
      results.map((r) => [r.custom_id, r.status, r.attempts, r.batch_ids, r.error?.type]),
      [
        ['one', 'not_run', 1, [inFlight], 'in_flight_at_stop'],
        ['two', 'not_run', 1, [inFlight], 'in_flight_at_stop'],
        ['three', 'not_run', 0, [], undefined],
        ['four', 'not_run', 0, [], undefined],
      ],
    );
    assert.match(results[0]!.error!.message, /still in flight when the job stopped: not collected, and may still be billed/);
  });
});

describe('a batch that stays in canceling', () => {
  let stack: TestStack;
  let running: Promise<void>;
  const WINDOW_REAL_MS = 12_000;
  before(async () => {
    // Cancel takes 10 days (nominal); the emulator ends a canceling batch at expires_at at the latest, as the API
    // does: here 12 s (real) after create.
    stack = await startStack({
      timeScale: 0.001,
      latency: { batch: { kind: 'fixed', ms: 11_000_000 }, spread: 0.5 },
      cancelDelayMs: 10 * 86_400_000,
      windowMs: WINDOW_REAL_MS * 1_000,
    });
    running = (await stack.startWorker()).run();
  });
  after(async () => {
    await stack.close();
    await running;
  });

  async function startAndCancel(options: JobOptionsInput) {
    const client = stack.env.client;
    const { workflowId } = await startJob({ client, store: stack.store, taskQueue: stack.taskQueue, file: await writeJobInput(200), defaults: DEFAULTS, options });
    const deadline = Date.now() + 15_000;
    while ((await jobProgress(client, workflowId)).batches.inFlight < 2) {
      assert.ok(Date.now() < deadline, 'two batches in flight');
      await sleep(50);
    }
    const canceledAt = Date.now();
    await cancelJob(client, workflowId);
    return { workflowId, canceledAt };
  }

  test('the canceled job waits for it only until it ends, sends nothing more, and finishes with one line per request', { timeout: 60_000 }, async () => {
    const client = stack.env.client;
    const { workflowId } = await startAndCancel({ ...FAST_POLL, maxBatchesInFlight: 2 });
    // Not a sleep: the job has canceled both batches and then they were looked at again (two polls after the cancels:
    // the account's poller lists, a job polling alone retrieves), so it had its chance to stop waiting.
    const polls = () => stack.emulator.stats().calls.retrieve + stack.emulator.stats().calls.list;
    const canceled = await until('both batches canceled', () => stack.emulator.stats().calls.cancel >= 2 && polls());
    await until('the job polled the canceling batches', () => polls() >= canceled + 2);
    const waiting = await jobProgress(client, workflowId);
    assert.equal(waiting.phase, 'canceling', 'still waiting for the batches to end');
    assert.equal(waiting.batches.inFlight, 2);
    // The batches end at expires_at (the cancel itself would take 10 days): move the emulator's clock there.
    stack.emulator.advance(WINDOW_REAL_MS * 1_000);
    const summary = await waitForJob(client, workflowId);
    assert.equal(stack.emulator.stats().batches, 2, 'nothing submitted after the cancel');
    assert.equal(summary.outcomes.canceled + summary.outcomes.succeeded, 200);
    const results = await readOutcomes(stack, workflowId);
    assert.equal(new Set(results.map((r) => r.custom_id)).size, 200);
  });

  test(
    'with a bounded wait, the job finishes without it and reports its requests canceled in flight',
    { timeout: 30_000 },
    async () => {
      const client = stack.env.client;
      const options: JobOptionsInput = { ...FAST_POLL, maxBatchesInFlight: 2, cancelGraceMs: 2_000 };
      const { workflowId, canceledAt } = await startAndCancel(options);
      const summary = await waitForJob(client, workflowId);
      assert.ok(Date.now() - canceledAt < 6_000, 'finished soon after the bound, not when the batches ended');
      assert.equal(summary.outcomes.canceled, 200);
      const results = await readOutcomes(stack, workflowId);
      for (const r of results.filter((x) => x.attempts > 0)) assert.equal(r.error?.type, 'in_flight_at_stop');
    },
  );
});
