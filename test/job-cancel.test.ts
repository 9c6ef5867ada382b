// Canceling a job while its batches are in flight: the batches are canceled at the API, the workflow completes
// (it does not fail), and every request ends with exactly one line, succeeded or canceled, none sent again.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { cancelJob, jobProgress, startJob, waitForJob } from '../src/client/jobs';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';
import { userIdOf } from './helpers/wire';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 64 };
/** A batch runs 6 s (real); its requests finish spread over 0.6–6 s. */
const BATCH_REAL_MS = 6_000;

describe('canceling a job', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({
      timeScale: 0.001,
      seed: 2,
      latency: { batch: { kind: 'fixed', ms: BATCH_REAL_MS * 1_000 }, spread: 0.9 },
    });
  });
  after(() => stack.close());

  test(
    'with batches in flight: they are canceled, the job completes, each request has one outcome',
    { timeout: 60_000 },
    async () => {
      const count = 400;
      const worker = await stack.startWorker();
      const file = await writeJobInput(count);
      const client = stack.env.client;
      // Two sub-batches go out; the other two are still waiting for room when the job is canceled.
      const { workflowId, handle } = await startJob({
        client,
        store: stack.store,
        taskQueue: stack.taskQueue,
        file,
        defaults: DEFAULTS,
        options: { ...FAST_POLL, batchSize: 100, maxBatchesInFlight: 2 },
      });

      const { summary, canceledAfterMs } = await worker.runUntil(async () => {
        const deadline = Date.now() + 15_000;
        while ((await jobProgress(client, workflowId)).batches.inFlight < 2) {
          assert.ok(Date.now() < deadline, 'two batches in flight within 15 s');
          await sleep(50);
        }
        await sleep(1_500); // some requests finish (0.6 s at the earliest), most are still running
        const progress = await jobProgress(client, workflowId);
        assert.equal(progress.phase, 'running');
        assert.equal(progress.batches.collected, 0, 'the batches are still in flight when the job is canceled');
        const canceledAt = Date.now();
        await cancelJob(client, workflowId);
        const summary = await waitForJob(client, workflowId);
        const canceledAfterMs = Date.now() - canceledAt;
        assert.equal((await jobProgress(client, workflowId)).phase, 'canceled');
        return { summary, canceledAfterMs };
      });

      const description = await handle.describe();
      assert.equal(description.status.name, 'COMPLETED', 'a canceled job completes; it does not fail');
      assert.ok(
        canceledAfterMs < BATCH_REAL_MS - 2_000,
        `the job ended ${canceledAfterMs} ms after the cancel, not when its batches would have`,
      );

      const stats = stack.emulator.stats();
      assert.equal(stats.calls.create, 2, 'nothing submitted after the cancel');
      assert.equal(stats.calls.cancel, 2, 'both batches in flight were canceled at the API');
      assert.ok(
        Object.values(stats.submissions).every((s) => s.batch === 1 && s.sync === 0),
        'no request sent again',
      );

      // What the API says about each submitted request is what results.jsonl says.
      const api = new Anthropic({ apiKey: stack.emulator.apiKey, baseURL: stack.emulator.url });
      const answered = new Map<string, string>();
      for (const { batchId } of stats.createLog) {
        const batch = await api.messages.batches.retrieve(batchId);
        assert.ok(batch.cancel_initiated_at !== null, `${batchId} was canceled`);
        for await (const item of await api.messages.batches.results(batchId))
          answered.set((await userIdOf(stack.store, item.custom_id))?.customId ?? item.custom_id, item.result.type);
      }
      const results: OutcomeLine[] = [];
      for await (const l of stack.store.readLines(jobKeys.output(workflowId, 'results.jsonl')))
        results.push(JSON.parse(l) as OutcomeLine);
      assert.equal(results.length, count);
      assert.equal(new Set(results.map((r) => r.custom_id)).size, count, 'exactly one line per request');
      assert.deepEqual(
        results.map((r) => r.line),
        Array.from({ length: count }, (_, i) => i + 1),
        'input order',
      );
      for (const r of results) {
        assert.ok(r.status === 'succeeded' || r.status === 'canceled', `${r.custom_id}: ${r.status}`);
        const answer = answered.get(r.custom_id);
        if (answer === undefined) {
          assert.deepEqual([r.status, r.attempts, r.batch_ids], ['canceled', 0, []], `${r.custom_id} was never sent`);
        } else {
          assert.equal(r.status, answer, `${r.custom_id}: the API's answer`);
          assert.equal(r.attempts, 1);
        }
      }
      const sentSucceeded = [...answered.values()].filter((a) => a === 'succeeded').length;
      assert.ok(
        sentSucceeded > 0 && sentSucceeded < 200,
        `some requests finished before the cancel (${sentSucceeded})`,
      );

      assert.equal(summary.requests, count);
      assert.equal(summary.outcomes.succeeded, sentSucceeded);
      assert.equal(summary.outcomes.canceled, count - sentSucceeded);
      assert.ok(summary.outcomes.canceled > 0);
      assert.equal(summary.outcomes.failed + summary.outcomes.not_run, 0);
    },
  );
});
