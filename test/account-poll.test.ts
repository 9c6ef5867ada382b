// One poll per account, on the real dev server and the emulator: one walk of the batch list per tick serves every
// job, a terminated poller costs a delay (the job registers again and a new poller starts), and a poller that cannot
// walk leaves jobs polling on their own after a silence, never hanging.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { startJob, waitForJob } from '../src/client/jobs';
import type { PollerView } from '../src/contracts/messages';
import type { EmulatorOptions } from '../src/emulator';
import { pollerTaskQueueOf } from '../src/contracts/workflow-ids';
import { createPollerWorker } from '../src/worker';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';
import { sharedWorkflowBundlePath } from './helpers/workflow-bundle';
import { pollerIdOf, pollerView } from './helpers/poller';
import { sendsByCustomId } from './helpers/wire';

const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 16 };
const POLL = { initialMs: 200, growth: 1.5, capMs: 1_000 };
/** Every batch takes `realMs` of real time. */
const batchesTaking = (realMs: number, extra: EmulatorOptions = {}): EmulatorOptions => ({
  timeScale: 0.001,
  latency: { batch: { kind: 'fixed', ms: realMs * 1_000 }, spread: 0 },
  ...extra,
});

async function activityTypesOf(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}

/** Waits until the poller answers with a view that passes `ok` (it may not have started yet). */
async function pollerViewWhen(client: Client, pollerId: string, ok: (v: PollerView) => boolean): Promise<PollerView> {
  for (;;) {
    try {
      const v = await pollerView(client, pollerId);
      if (ok(v)) return v;
    } catch {
      // not started yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runs(client: Client, workflowId: string): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) n++;
  return n;
}

describe('one poll per account', () => {
  describe('eight jobs at once', () => {
    let stack: TestStack;
    // Batches outlast the spread of the eight starts on a loaded machine, so one walk sees all sixteen in flight.
    before(async () => (stack = await startStack(batchesTaking(8_000))));
    after(() => stack.close());

    test('make one walk of the batch list per tick between them, and each comes back complete', async () => {
      const worker = await stack.startWorker();
      const client = stack.env.client;
      const JOBS = 8;
      // listPollThreshold 1: a job polling on its own would walk the list too, so every list call is counted.
      const options = { poll: POLL, listPollThreshold: 1 };
      const started = await Promise.all(
        Array.from({ length: JOBS }, async (_, j) => {
          const file = await writeJobInput(200, { customId: (i) => `j${j}-${i}`, prompt: (i) => `job ${j} item ${i}` });
          return startJob({ client, store: stack.store, taskQueue: stack.taskQueue, file, name: `many-${j}`, defaults: DEFAULTS, options });
        }),
      );
      const pollerId = pollerIdOf(stack.emulator);
      const summaries = await worker.runUntil(async () => {
        const done = await Promise.all(started.map((s) => waitForJob(client, s.workflowId)));
        const view = await pollerView(client, pollerId);
        return { done, view };
      });

      for (const s of summaries.done) assert.equal(s.outcomes.succeeded, 200);
      const stats = stack.emulator.stats();
      assert.equal(stats.calls.create, JOBS * 2);
      const sends = await sendsByCustomId(stack.store, stats);
      assert.ok(Object.values(sends).every((x) => x.batch === 1), 'nothing sent twice');
      const { view } = summaries;
      assert.ok(view.stats.walks > 0, 'the poller walked');
      assert.equal(view.stats.maxCallsPerWalk, 1, '16 batches in flight: one page of 1,000');
      assert.equal(view.stats.maxWatched, JOBS * 2, 'one walk watched every job’s batches');
      assert.equal(stats.calls.list, view.stats.calls, 'every list call was the poller’s: one per tick, whatever the number of jobs');
      assert.equal(stats.calls.list, view.stats.walks);
    });
  });

  describe('a poller served by a Worker of its own (as sluice worker runs it)', () => {
    let stack: TestStack;
    before(async () => (stack = await startStack(batchesTaking(2_000))));
    after(() => stack.close());

    test('runs on the poller task queue beside the jobs’ and serves them: no job polls on its own', async () => {
      const pollerTaskQueue = pollerTaskQueueOf(stack.taskQueue);
      const worker = await stack.startWorker({ pollerTaskQueue });
      const pollerWorker = await createPollerWorker({
        workflowBundlePath: await sharedWorkflowBundlePath(),
        connection: stack.env.nativeConnection,
        namespace: stack.env.namespace ?? 'default',
        taskQueue: stack.taskQueue,
        apiKey: stack.emulator.apiKey,
        baseURL: stack.emulator.url,
        storeDir: stack.storeDir,
      });
      const client = stack.env.client;
      const started = await Promise.all(
        [0, 1].map(async (j) =>
          startJob({ client, store: stack.store, taskQueue: stack.taskQueue, file: await writeJobInput(200, { customId: (i) => `q${j}-${i}` }), defaults: DEFAULTS, options: { poll: POLL } }),
        ),
      );
      const pollerRun = pollerWorker.run();
      const done = await worker.runUntil(Promise.all(started.map((s) => waitForJob(client, s.workflowId))));
      const described = await client.workflow.getHandle(pollerIdOf(stack.emulator)).describe();
      pollerWorker.shutdown();
      await pollerRun;

      for (const s of done) assert.equal(s.outcomes.succeeded, 200);
      assert.equal(described.taskQueue, pollerTaskQueue, 'the poller runs on its own task queue');
      for (const s of started) assert.ok(!(await activityTypesOf(client, s.workflowId)).includes('pollBatches'), 'served: no poll of its own');
      assert.equal(stack.emulator.stats().calls.retrieve, 0);
    });
  });

  describe('a poller terminated in the middle of a job', () => {
    let stack: TestStack;
    before(async () => (stack = await startStack(batchesTaking(4_000))));
    after(() => stack.close());

    test('costs a delay: the job registers again, a new poller starts, and every request has its outcome', async () => {
      const worker = await stack.startWorker();
      const client = stack.env.client;
      const file = await writeJobInput(300);
      const { workflowId } = await startJob({ client, store: stack.store, taskQueue: stack.taskQueue, file, defaults: DEFAULTS, options: { poll: POLL } });
      const pollerId = pollerIdOf(stack.emulator);
      const summary = await worker.runUntil(async () => {
        // The deterministic moment: the job has handed all three batches to the poller, none has ended yet.
        await pollerViewWhen(client, pollerId, (v) => v.jobs.some((j) => j.jobId === workflowId && j.batches === 3));
        await client.workflow.getHandle(pollerId).terminate('test: the poller goes away mid-job');
        return waitForJob(client, workflowId);
      });

      assert.equal(summary.outcomes.succeeded, 300);
      assert.ok((await runs(client, pollerId)) >= 2, 'the job’s next registration started a new poller');
      const sends = await sendsByCustomId(stack.store, stack.emulator.stats());
      assert.equal(Object.keys(sends).length, 300);
      assert.ok(Object.values(sends).every((x) => x.batch === 1), 'nothing sent twice');
    });
  });

  describe('a poller that cannot walk the list', () => {
    let stack: TestStack;
    // Every list call fails: the poller's walks give up, the job hears nothing.
    before(async () => (stack = await startStack(batchesTaking(2_000, { faults: { apiError: { rate: 1, endpoints: ['list'] } } }))));
    after(() => stack.close());

    test('leaves the job polling its own batches after the silence limit: done, never hung', async () => {
      const worker = await stack.startWorker();
      const client = stack.env.client;
      const file = await writeJobInput(200);
      // A floor shorter than the default 30 s: the silence limit is then ten intervals at the cap (5 s).
      const options = { poll: { ...POLL, capMs: 500, silenceFloorMs: 1_000 } };
      const { workflowId } = await startJob({ client, store: stack.store, taskQueue: stack.taskQueue, file, defaults: DEFAULTS, options });
      const { summary, view } = await worker.runUntil(async () => {
        const summary = await waitForJob(client, workflowId);
        return { summary, view: await pollerView(client, pollerIdOf(stack.emulator)) };
      });

      assert.equal(summary.outcomes.succeeded, 200);
      const acts = await activityTypesOf(client, workflowId);
      assert.equal(view.stats.walks, 0, 'the poller never walked');
      assert.ok(acts.includes('pollBatches'), 'the job, hearing nothing, polled on its own');
      assert.ok(stack.emulator.stats().calls.list > 0, 'the poller did try');
    });
  });
});
