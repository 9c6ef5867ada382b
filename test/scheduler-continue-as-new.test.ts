// A job that continues as new keeps its seat in the account's scheduler: the room its batches hold is not handed to
// a job waiting meanwhile, and its next run is not taken for a member the scheduler lost (which holds every grant
// for one and a half refresh periods). Real dev server, emulator.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { accountFingerprint } from '../src/activities/account-key';
import { startJob, waitForJob } from '../src/client/jobs';
import { queueView } from '../src/client/queue';
import { accountSchedulerWorkflowId } from '../src/contracts/workflow-ids';
import type { JobOptionsInput } from '../src/domain/job';
import { peakInProgress } from './helpers/queue-peak';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';

const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 16 };
/** Small sub-batches and the lowest history limit: the long job continues as new while it holds room. */
const OPTIONS: JobOptionsInput = { poll: { initialMs: 100, growth: 1.2, capMs: 300 }, batchSize: 5, maxHistoryEvents: 500 };
const CAPACITY = { maxRequests: 30, maxBatches: 6 };
const REFRESH = { refreshMs: 1_000, missedRefreshes: 3 };

let stack: TestStack | undefined;
after(() => stack?.close());

async function start(s: TestStack, name: string, count: number) {
  const file = await writeJobInput(count, { customId: (i) => `${name}-${i}` });
  const { workflowId } = await startJob({ client: s.env.client, store: s.store, taskQueue: s.taskQueue, file, name, defaults: DEFAULTS, options: OPTIONS });
  return workflowId;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every run of a workflow id, oldest first. */
async function runsOf(client: Client, workflowId: string) {
  const runs: { start: number; runId: string }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ start: wf.startTime.getTime(), runId: wf.runId });
  runs.sort((a, b) => a.start - b.start);
  return Promise.all(runs.map(async (r) => (await client.workflow.getHandle(workflowId, r.runId).fetchHistory()).events ?? []));
}

test('a job that continues as new keeps its seat: the scheduler hears it leave once, at its end, and never hands out the room it holds', { timeout: 180_000 }, async () => {
  stack = await startStack({ timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 400_000 }, spread: 0 } });
  const worker = await stack.startWorker({ queueCapacity: CAPACITY, queueRefresh: REFRESH });
  const running = worker.run();
  try {
    const long = await start(stack, 'long', 300);
    const stateOf = async (jobId: string) => (await queueView(stack!.env.client, stack!.taskQueue))?.jobs.find((j) => j.jobId === jobId)?.state;
    await until('the long job to hold the queue', async () => (await stateOf(long)) === 'holding');
    // Waits behind the long job (same priority, later arrival) through the long job's continue-as-new.
    const other = await start(stack, 'other', 30);
    const [a, b] = await Promise.all([waitForJob(stack.env.client, long), waitForJob(stack.env.client, other)]);
    assert.equal(a.outcomes.succeeded, 300);
    assert.equal(b.outcomes.succeeded, 30);

    const longRuns = await runsOf(stack.env.client, long);
    assert.ok(longRuns.length > 1, 'the long job continued as new');
    const scheduler = await runsOf(stack.env.client, accountSchedulerWorkflowId(accountFingerprint(stack.emulator.apiKey)));
    const leaves = scheduler.flat().filter((e) => {
      const s = e.workflowExecutionSignaledEventAttributes;
      const data = s?.input?.payloads?.[0]?.data;
      return s?.signalName === 'leaveQueue' && data !== undefined && data !== null && Buffer.from(data).toString('utf8').includes(long);
    });
    assert.equal(leaves.length, 1, `the long job left the queue once, when it ended (${longRuns.length} runs)`);
    const peak = await peakInProgress(stack.emulator);
    assert.ok(peak <= CAPACITY.maxRequests, `at most ${CAPACITY.maxRequests} requests in progress at once (saw ${peak})`);
  } finally {
    worker.shutdown();
    await running;
  }
});
