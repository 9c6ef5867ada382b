// kill -9 of the worker process mid-job, then a new worker: the job finishes with every result exactly once,
// and no request is submitted (paid for) twice.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { jobProgress, startJob, waitForJob } from '../src/client/jobs';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import type { JobProgress } from '../src/workflows/job-state';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';
import { workerProcesses, type WorkerProcesses } from './helpers/worker-processes';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 64 };
const EventType = temporal.api.enums.v1.EventType;

describe('the worker process killed with SIGKILL mid-job', () => {
  let stack: TestStack;
  let workers: WorkerProcesses;

  before(async () => {
    stack = await startStack({
      timeScale: 0.001,
      seed: 4,
      // Each batch takes 1–2 s (real): with 5 in flight at a time, 20 sub-batches take several rounds.
      latency: { batch: { kind: 'fixed', ms: 2_000_000 }, spread: 0.5 },
    });
    workers = await workerProcesses(stack);
  });
  after(async () => {
    await workers.killAll();
    await stack.close();
  });

  const startWorkerProcess = () => workers.start();

  test(
    'the job finishes with every result exactly once and no request submitted twice',
    { timeout: 90_000 },
    async () => {
      const count = 2_000;
      const first = await startWorkerProcess();
      const file = await writeJobInput(count);
      const client = stack.env.client;
      const { workflowId, handle } = await startJob({
        client,
        store: stack.store,
        taskQueue: stack.taskQueue,
        file,
        defaults: DEFAULTS,
        options: { ...FAST_POLL, batchSize: 100, maxBatchesInFlight: 5 },
      });

      // Kill once some batches were collected and others are in flight or not yet sent, at a moment the
      // workflow waits on its timer (an activity cut short would only come back after its 2 min timeout).
      let atKill: JobProgress | undefined;
      const deadline = Date.now() + 20_000;
      while (!atKill) {
        assert.ok(Date.now() < deadline, `no moment to kill was found:\n${first.output()}`);
        const p = await jobProgress(client, workflowId);
        if (p.batches.collected >= 1 && p.batches.inFlight > 0 && p.requests.notYetSubmitted > 0) {
          const events = (await handle.fetchHistory()).events ?? [];
          const last = events.at(-1);
          const timer = last?.timerStartedEventAttributes;
          if (last?.eventType === EventType.EVENT_TYPE_TIMER_STARTED && timer) {
            const firesAtMs = tsMs(last.eventTime) + tsMs(timer.startToFireTimeout);
            if (firesAtMs - Date.now() > 150) {
              first.child.kill('SIGKILL');
              atKill = p;
            }
          }
        }
        if (!atKill) await sleep(20);
      }
      const [, signal] = (await once(first.child, 'exit')) as [number | null, NodeJS.Signals | null];
      assert.equal(signal, 'SIGKILL');
      assert.ok(
        atKill.batches.created > 0 && atKill.batches.created < 20,
        `killed mid-job: ${JSON.stringify(atKill.batches)}`,
      );
      const createdBeforeRestart = stack.emulator.stats().calls.create;

      const second = await startWorkerProcess();
      const summary = await waitForJob(client, workflowId).catch((err: unknown) => {
        throw new Error(`the job did not finish:\n${second.output()}`, { cause: err });
      });
      assert.ok(stack.emulator.stats().calls.create > createdBeforeRestart, 'the new worker went on submitting');

      assert.equal(summary.requests, count);
      assert.equal(summary.outcomes.succeeded, count);
      const stats = stack.emulator.stats();
      assert.equal(stats.calls.create, 20, 'one create per sub-batch, none repeated');
      assert.equal(Object.keys(stats.submissions).length, count);
      assert.ok(
        Object.values(stats.submissions).every((s) => s.batch === 1 && s.sync === 0),
        'no request submitted twice',
      );

      const results: OutcomeLine[] = [];
      for await (const l of stack.store.readLines(jobKeys.output(workflowId, 'results.jsonl')))
        results.push(JSON.parse(l) as OutcomeLine);
      assert.equal(results.length, count);
      assert.equal(new Set(results.map((r) => r.custom_id)).size, count, 'every result exactly once');
      assert.deepEqual(
        results.map((r) => r.line),
        Array.from({ length: count }, (_, i) => i + 1),
        'input order',
      );
      assert.ok(results.every((r) => r.status === 'succeeded' && r.attempts === 1 && r.batch_ids.length === 1));
      const usedBatches = new Set(results.map((r) => r.batch_ids[0]));
      assert.deepEqual(
        [...usedBatches].sort(),
        stats.createLog.map((c) => c.batchId).sort(),
        'every batch created was collected',
      );
    },
  );
});

function tsMs(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!t) return 0;
  return Number(t.seconds ?? 0) * 1_000 + Math.floor((t.nanos ?? 0) / 1e6);
}
