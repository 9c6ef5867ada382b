// Retries end to end (real dev server, emulator, compressed time): only what failed is sent again, each
// failure kind is treated by its retry class, max attempts holds, and retries are packed into few batches.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startJob, waitForJob } from '../src/client/jobs';
import { jobKeys, type JobOptionsInput, type OutcomeLine } from '../src/domain/job';
import { isRetryableErrorType } from '../src/domain/retry';
import type { EmulatorHandle, EmulatorOptions } from '../src/emulator';
import type { BlobStore } from '../src/store/blob-store';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';
import { sendsByCustomId, userIdOf } from './helpers/wire';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 64 };

/** What the API answered for one request in one batch, read back from the emulator: the ground truth. */
interface Answer {
  batchId: string;
  kind: 'succeeded' | 'canceled' | 'expired' | 'errored';
  errorType?: string;
  message?: string;
}

/** Every answer the emulator gave, per custom_id, in the order the batches were created. */
async function answersByCustomId(emulator: EmulatorHandle, store: BlobStore): Promise<Map<string, Answer[]>> {
  const api = new Anthropic({ apiKey: emulator.apiKey, baseURL: emulator.url, maxRetries: 0 });
  const answers = new Map<string, Answer[]>();
  for (const { batchId } of emulator.stats().createLog) {
    for await (const item of await api.messages.batches.results(batchId)) {
      const r = item.result;
      const answer: Answer =
        r.type === 'errored'
          ? { batchId, kind: 'errored', errorType: r.error.error.type, message: r.error.error.message }
          : { batchId, kind: r.type };
      // On the wire each request carries Sluice's wire id; read it back as the user's custom_id.
      const customId = (await userIdOf(store, item.custom_id))?.customId ?? item.custom_id;
      answers.set(customId, [...(answers.get(customId) ?? []), answer]);
    }
  }
  return answers;
}

const isRetryable = (a: Answer) =>
  a.kind === 'expired' || a.kind === 'canceled' || (a.kind === 'errored' && isRetryableErrorType(a.errorType!));

async function outputLines<T>(stack: TestStack, jobId: string, file: 'results.jsonl' | 'failures.jsonl'): Promise<T[]> {
  const out: T[] = [];
  for await (const line of stack.store.readLines(jobKeys.output(jobId, file))) out.push(JSON.parse(line) as T);
  return out;
}

async function runJob(
  t: TestContext,
  emulator: EmulatorOptions,
  input: { count: number; customId?: (i: number) => string; prompt?: (i: number) => string },
  options: JobOptionsInput,
  whileRunning?: (stack: TestStack) => Promise<void>,
) {
  const stack = await startStack(emulator);
  t.after(() => stack.close());
  const worker = await stack.startWorker();
  const file = await writeJobInput(input.count, { customId: input.customId, prompt: input.prompt });
  const client = stack.env.client;
  const { workflowId } = await startJob({
    client,
    store: stack.store,
    taskQueue: stack.taskQueue,
    file,
    defaults: DEFAULTS,
    options: { ...FAST_POLL, ...options },
  });
  const summary = await worker.runUntil(async () => {
    await whileRunning?.(stack);
    return waitForJob(client, workflowId);
  });
  const results = await outputLines<OutcomeLine>(stack, workflowId, 'results.jsonl');
  const failures = await outputLines<OutcomeLine>(stack, workflowId, 'failures.jsonl');
  const answers = await answersByCustomId(stack.emulator, stack.store);
  const stats = stack.emulator.stats();
  return { stack, summary, results, failures, answers, stats: { ...stats, submissions: await sendsByCustomId(stack.store, stats) } };
}

/**
 * The invariants every retry run must keep, checked request by request against what the emulator answered:
 * a request is sent again exactly when its previous answer was retryable and attempts were left; its line in
 * results.jsonl names every batch it was in; its final status follows from its last answer.
 */
function assertRetriedOnlyWhatFailed(run: Awaited<ReturnType<typeof runJob>>, count: number, maxAttempts: number) {
  const { results, answers, stats } = run;
  assert.equal(results.length, count, 'one line per request');
  assert.equal(new Set(results.map((r) => r.custom_id)).size, count, 'each request exactly once');
  for (const r of results) {
    const seen = answers.get(r.custom_id) ?? [];
    const sub = stats.submissions[r.custom_id];
    assert.equal(sub?.batch, seen.length, `${r.custom_id}: emulator submissions = batches it appears in`);
    assert.equal(sub.sync, 0, `${r.custom_id}: never sent synchronously`);
    assert.equal(r.attempts, seen.length, `${r.custom_id}: attempts in results.jsonl = times submitted`);
    assert.deepEqual(
      r.batch_ids,
      seen.map((a) => a.batchId),
      `${r.custom_id}: batch_ids name every batch, in order`,
    );
    seen
      .slice(0, -1)
      .forEach((a, i) => assert.ok(isRetryable(a), `${r.custom_id}: sent again after a ${a.kind} (attempt ${i + 1})`));
    const last = seen.at(-1)!;
    if (last.kind === 'succeeded') {
      assert.equal(r.status, 'succeeded', r.custom_id);
    } else if (isRetryable(last)) {
      assert.equal(seen.length, maxAttempts, `${r.custom_id}: a retryable answer is retried until max attempts`);
      assert.equal(r.status, 'failed', `${r.custom_id}: failed after ${maxAttempts} attempts`);
    } else {
      assert.equal(r.status, 'failed', `${r.custom_id}: a terminal error is final`);
      assert.deepEqual(r.error, { type: last.errorType, message: last.message }, `${r.custom_id}: the API's error`);
    }
  }
}

/** custom_ids whose first answer was of this kind and that succeeded on exactly their second attempt. */
function recoveredOnSecondTry(run: Awaited<ReturnType<typeof runJob>>, first: (a: Answer) => boolean): OutcomeLine[] {
  return run.results.filter((r) => {
    const seen = run.answers.get(r.custom_id)!;
    return first(seen[0]!) && seen.length === 2 && r.status === 'succeeded';
  });
}

describe('retries', () => {
  test(
    'retryable errors and expiries are sent again, only for the failed ids; terminal errors never',
    { timeout: 60_000 },
    async (t) => {
      const count = 300;
      const refusal = 'messages.0.content: this request is refused (emulated)';
      const run = await runJob(
        t,
        {
          timeScale: 0.001,
          seed: 11,
          // Expired requests keep their batch open until expires_at: a short window keeps the test short.
          windowMs: 400_000,
          latency: { batch: { kind: 'uniform', minMs: 20_000, maxMs: 150_000 } },
          faults: {
            resultErrors: { overloaded_error: 0.05, api_error: 0.05 },
            expiredRate: 0.05,
            // Aimed by content: the wire carries Sluice's ids, not the user's.
            errorCustomIds: { pattern: 'refuse me', in: 'messages', type: 'invalid_request_error', message: refusal },
          },
        },
        {
          count,
          customId: (i) => (i % 40 === 5 ? `bad-${i}` : `item-${i}`),
          prompt: (i) => (i % 40 === 5 ? `Document ${i}: refuse me.` : `Summarise document number ${i}.`),
        },
        { maxAttempts: 3 },
      );
      assertRetriedOnlyWhatFailed(run, count, 3);

      // Every failure kind happened, and each was retried and then succeeded on the second attempt.
      const errored = (type: string) => (a: Answer) => a.kind === 'errored' && a.errorType === type;
      for (const [kind, first] of [
        ['overloaded_error', errored('overloaded_error')],
        ['api_error', errored('api_error')],
        ['expired', (a: Answer) => a.kind === 'expired'],
      ] as const) {
        const recovered = recoveredOnSecondTry(run, first);
        assert.ok(recovered.length > 0, `some request came back ${kind} and succeeded when sent again`);
        for (const r of recovered) {
          assert.equal(r.attempts, 2);
          assert.equal(r.batch_ids.length, 2);
          assert.notEqual(r.batch_ids[0], r.batch_ids[1]);
        }
      }
      const once = run.results.filter((r) => run.answers.get(r.custom_id)![0]!.kind === 'succeeded');
      assert.ok(once.length > count * 0.7);
      assert.ok(
        once.every((r) => run.stats.submissions[r.custom_id]!.batch === 1),
        'what succeeded was sent once',
      );

      // Terminal errors: sent once, failed with the API's message, listed in failures.jsonl.
      const bad = run.results.filter((r) => r.custom_id.startsWith('bad-'));
      assert.equal(bad.length, 8);
      for (const r of bad) {
        assert.equal(run.stats.submissions[r.custom_id]!.batch, 1, `${r.custom_id} is never retried`);
        assert.equal(r.status, 'failed');
        assert.deepEqual(r.error, { type: 'invalid_request_error', message: refusal });
      }
      const failedIds = run.results.filter((r) => r.status === 'failed').map((r) => r.custom_id);
      assert.deepEqual(
        run.failures.map((f) => f.custom_id),
        failedIds,
        'failures.jsonl lists exactly the failed requests',
      );
      assert.ok(run.failures.every((f) => f.error && f.error.message.length > 0));
      assert.equal(run.summary.outcomes.failed, failedIds.length);
      assert.equal(run.summary.outcomes.succeeded + run.summary.outcomes.failed, count);
    },
  );

  test(
    'requests in a batch canceled by someone else are sent again (the job was not canceled)',
    { timeout: 60_000 },
    async (t) => {
      const count = 150;
      let canceledBatch = '';
      const run = await runJob(
        t,
        // Every request of a batch finishes at exactly 2 s (real): a batch canceled at once cancels all of them.
        { timeScale: 0.001, seed: 3, latency: { batch: { kind: 'fixed', ms: 2_000_000 }, spread: 0 } },
        { count },
        { batchSize: 50 },
        async (stack) => {
          const deadline = Date.now() + 15_000;
          while (stack.emulator.stats().createLog.length < 3) {
            assert.ok(Date.now() < deadline, 'three batches created within 15 s');
            await sleep(10);
          }
          canceledBatch = stack.emulator.stats().createLog[0]!.batchId;
          const api = new Anthropic({ apiKey: stack.emulator.apiKey, baseURL: stack.emulator.url });
          await api.messages.batches.cancel(canceledBatch);
        },
      );
      assertRetriedOnlyWhatFailed(run, count, 3);

      const canceledIds = [...run.answers].filter(([, a]) => a[0]!.batchId === canceledBatch).map(([id]) => id);
      assert.equal(canceledIds.length, 50);
      assert.ok(
        canceledIds.every((id) => run.answers.get(id)![0]!.kind === 'canceled'),
        'the whole batch was canceled',
      );
      const byId = new Map(run.results.map((r) => [r.custom_id, r]));
      for (const id of canceledIds) {
        const r = byId.get(id)!;
        assert.equal(r.status, 'succeeded', `${id} succeeded on its second attempt`);
        assert.equal(r.attempts, 2);
        assert.equal(r.batch_ids[0], canceledBatch);
      }
      assert.equal(Object.values(run.stats.submissions).filter((s) => s.batch === 2).length, 50, 'only those 50 twice');
      assert.equal(run.stats.calls.create, 4, '3 sub-batches and one retry batch');
      assert.equal(run.summary.outcomes.canceled, 0, 'nothing ends canceled when the job itself was not');
      assert.equal(run.summary.outcomes.succeeded, count);
      assert.deepEqual(run.summary.attempts, { 1: 100, 2: 50 });
    },
  );

  test(
    'max attempts is honoured: a request that always fails is sent exactly maxAttempts times',
    { timeout: 60_000 },
    async (t) => {
      const count = 30;
      const run = await runJob(
        t,
        {
          timeScale: 0.001,
          latency: { batch: { kind: 'uniform', minMs: 20_000, maxMs: 100_000 } },
          faults: { errorCustomIds: { pattern: 'always overloaded', in: 'messages', type: 'overloaded_error' } },
        },
        {
          count,
          customId: (i) => (i < 2 ? `always-${i}` : `item-${i}`),
          prompt: (i) => (i < 2 ? `Document ${i}: always overloaded.` : `Summarise document number ${i}.`),
        },
        { maxAttempts: 2 },
      );
      assertRetriedOnlyWhatFailed(run, count, 2);
      for (const id of ['always-0', 'always-1']) {
        assert.equal(run.stats.submissions[id]!.batch, 2, `${id} submitted twice, then given up`);
        const r = run.results.find((x) => x.custom_id === id)!;
        assert.equal(r.status, 'failed');
        assert.equal(r.attempts, 2);
        assert.equal(r.error?.type, 'overloaded_error');
        assert.match(r.error?.message ?? '', /Overloaded.*after 2 attempts/);
      }
      assert.deepEqual(
        run.failures.map((f) => f.custom_id),
        ['always-0', 'always-1'],
      );
      assert.equal(run.stats.calls.create, 2, 'one batch, one retry batch, no third');
      assert.equal(run.summary.outcomes.succeeded, count - 2);
    },
  );

  test('retries of many batches are packed together into few retry batches', { timeout: 60_000 }, async (t) => {
    const count = 300;
    const batchSize = 50;
    const originals = count / batchSize;
    const run = await runJob(
      t,
      // All six sub-batches end together, 1 s (real) after they are created.
      {
        timeScale: 0.001,
        seed: 5,
        latency: { batch: { kind: 'fixed', ms: 1_000_000 }, spread: 0 },
        faults: { resultErrors: { api_error: 0.1 } },
      },
      { count },
      { batchSize, maxAttempts: 2 },
    );
    assertRetriedOnlyWhatFailed(run, count, 2);

    const firstFailures = [...run.answers.values()].filter((a) => isRetryable(a[0]!));
    const batchesWithFailures = new Set(firstFailures.map((a) => a[0]!.batchId));
    assert.ok(firstFailures.length >= 15, `enough failures to be meaningful (${firstFailures.length})`);
    assert.ok(batchesWithFailures.size >= 4, `failures spread over ${batchesWithFailures.size} sub-batches`);

    const retryCreates = run.stats.createLog.slice(originals);
    assert.equal(run.stats.createLog.length, run.stats.calls.create);
    assert.equal(
      retryCreates.reduce((n, c) => n + c.requestCount, 0),
      firstFailures.length,
      'the retry batches hold exactly the failed requests',
    );
    assert.ok(
      retryCreates.length <= 2,
      `${firstFailures.length} failures from ${batchesWithFailures.size} sub-batches went out in ${retryCreates.length} retry batches`,
    );
  });
});
