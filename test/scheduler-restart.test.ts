// The scheduler survives what Temporal lets anyone do to it and to jobs: terminate the scheduler while a job
// waits, terminate a job while it holds room, and run two task queues on one API key. Real dev server, emulator.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { accountFingerprint } from '../src/activities/account-key';
import { startJob, waitForJob } from '../src/client/jobs';
import { queueView } from '../src/client/queue';
import { queueQuery } from '../src/contracts/messages';
import { accountSchedulerWorkflowId } from '../src/contracts/workflow-ids';
import type { JobOptionsInput } from '../src/domain/job';
import type { EmulatorOptions } from '../src/emulator';
import { createSluiceWorker } from '../src/worker';
import { peakInProgress } from './helpers/queue-peak';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';
import { uniqueTaskQueue } from './helpers/temporal';
import { userIdOf } from './helpers/wire';
import { sharedWorkflowBundlePath } from './helpers/workflow-bundle';

const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 16 };
const OPTIONS: JobOptionsInput = { poll: { initialMs: 150, growth: 1.2, capMs: 300 }, batchSize: 100 };
/** Jobs refresh every second and are forgotten after three missed refreshes. */
const REFRESH = { refreshMs: 1_000, missedRefreshes: 3 };
/** Every batch takes `realMs` of real time. */
const batchesTaking = (realMs: number): EmulatorOptions => ({
  timeScale: 0.001,
  latency: { batch: { kind: 'fixed', ms: realMs * 1_000 }, spread: 0 },
});

const stacks: TestStack[] = [];
after(async () => {
  for (const s of stacks) await s.close();
});

async function start(stack: TestStack, name: string, count: number, taskQueue = stack.taskQueue) {
  const file = await writeJobInput(count, { customId: (i) => `${name}-${i}` });
  const { workflowId } = await startJob({
    client: stack.env.client,
    store: stack.store,
    taskQueue,
    file,
    name,
    defaults: DEFAULTS,
    options: OPTIONS,
  });
  return workflowId;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stateOf(stack: TestStack, jobId: string): Promise<string | undefined> {
  return (await queueView(stack.env.client, stack.taskQueue))?.jobs.find((j) => j.jobId === jobId)?.state;
}

/** The job (by the user custom_id prefix) of each created batch, in creation order. */
async function batchOwners(stack: TestStack): Promise<(string | undefined)[]> {
  const owners: (string | undefined)[] = [];
  for (const c of stack.emulator.stats().createLog) owners.push((await userIdOf(stack.store, c.firstCustomId))?.customId.split('-')[0]);
  return owners;
}

test('a scheduler terminated while a job waits for room: the job refreshes, a new scheduler rebuilds, the job completes', { timeout: 90_000 }, async () => {
  const stack = await startStack(batchesTaking(2_500));
  stacks.push(stack);
  const worker = await stack.startWorker({ queueCapacity: { maxRequests: 100, maxBatches: 10 }, queueRefresh: REFRESH });
  const running = worker.run();
  const first = await start(stack, 'first', 100);
  await until('the first job to hold the whole queue', async () => (await stateOf(stack, first)) === 'holding');
  const second = await start(stack, 'second', 100);
  await until('the second job to wait for room', async () => (await stateOf(stack, second)) === 'waiting');

  const scheduler = stack.env.client.workflow.getHandle(accountSchedulerWorkflowId(accountFingerprint(stack.emulator.apiKey)));
  const lost = (await scheduler.describe()).runId;
  await scheduler.terminate('test: the scheduler is lost while a job waits');
  await until('a new scheduler to rebuild from the refreshes before it grants', async () => {
    const v = await scheduler.query(queueQuery).catch(() => undefined);
    return v?.rebuildingUntilMs !== undefined;
  });

  const [a, b] = await Promise.all([waitForJob(stack.env.client, first), waitForJob(stack.env.client, second)]);
  worker.shutdown();
  await running;
  assert.equal(a.outcomes.succeeded, 100);
  assert.equal(b.outcomes.succeeded, 100, 'the waiting job did not hang');
  assert.notEqual((await scheduler.describe()).runId, lost, 'a new scheduler took over from the refreshes');
  assert.deepEqual(await batchOwners(stack), ['first', 'second']);
  assert.ok((await peakInProgress(stack.emulator)) <= 100, 'the new scheduler did not hand out room the first job still held');
});

test('a job terminated while it holds room: its room comes back when it misses its refreshes, and a waiting job proceeds', { timeout: 90_000 }, async () => {
  // Batches take a minute of real time and end when the test moves the emulator's clock: the holder's is still in
  // progress when its room comes back.
  const stack = await startStack(batchesTaking(60_000));
  stacks.push(stack);
  const worker = await stack.startWorker({ queueCapacity: { maxRequests: 100, maxBatches: 10 }, queueRefresh: REFRESH });
  const running = worker.run();
  const holder = await start(stack, 'holder', 100);
  await until('the holder to hold the whole queue', async () => (await stateOf(stack, holder)) === 'holding');
  const waiter = await start(stack, 'waiter', 100);
  await until('the other job to wait for room', async () => (await stateOf(stack, waiter)) === 'waiting');

  await stack.env.client.workflow.getHandle(holder).terminate('test: a job terminated while it holds room');
  await until('the scheduler to forget the terminated job', async () => (await stateOf(stack, holder)) === undefined);
  await until("the waiting job's sub-batch to be created", () => stack.emulator.stats().createLog.length === 2);
  assert.deepEqual(await batchOwners(stack), ['holder', 'waiter'], 'its room went to the waiting job');

  stack.emulator.advance(17 * 3_600_000); // past the sub-batches' 16.7 nominal hours
  const summary = await waitForJob(stack.env.client, waiter);
  worker.shutdown();
  await running;
  assert.equal(summary.outcomes.succeeded, 100);
});

test('two task queues on one API key share one scheduler: the account queue never holds more than its cap', { timeout: 120_000 }, async () => {
  const stack = await startStack(batchesTaking(1_500));
  stacks.push(stack);
  const capacity = { maxRequests: 200, maxBatches: 10 };
  const one = await stack.startWorker({ queueCapacity: capacity, queueRefresh: REFRESH });
  const otherQueue = uniqueTaskQueue('job-other');
  const two = await createSluiceWorker({
    workflowBundlePath: await sharedWorkflowBundlePath(),
    connection: stack.env.nativeConnection,
    namespace: stack.env.namespace ?? 'default',
    taskQueue: otherQueue,
    apiKey: stack.emulator.apiKey,
    baseURL: stack.emulator.url,
    storeDir: stack.storeDir,
    queueCapacity: capacity,
    queueRefresh: REFRESH,
  });
  const running = [one.run(), two.run()];
  try {
    const [a, b] = await Promise.all([start(stack, 'east', 400), start(stack, 'west', 400, otherQueue)]);
    const [sa, sb] = await Promise.all([waitForJob(stack.env.client, a), waitForJob(stack.env.client, b)]);
    assert.equal(sa.outcomes.succeeded, 400);
    assert.equal(sb.outcomes.succeeded, 400);
  } finally {
    one.shutdown();
    two.shutdown();
    await Promise.all(running);
  }
  const owners = await batchOwners(stack);
  assert.equal(owners.length, 8);
  assert.deepEqual(new Set(owners), new Set(['east', 'west']));
  const peak = await peakInProgress(stack.emulator);
  assert.ok(peak <= 200, `at most 200 requests in progress at once across both task queues (saw ${peak})`);
});
