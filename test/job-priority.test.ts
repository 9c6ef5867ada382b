// Priority and preemption across jobs sharing one batch queue, on the real dev server and the emulator.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { Worker } from '@temporalio/worker';
import { downloadResults, jobProgress, startJob, waitForJob } from '../src/client/jobs';
import { pauseJob, queueView, resumeJob, setJobPriority } from '../src/client/queue';
import type { JobOptionsInput, OutcomeLine } from '../src/domain/job';
import { readJsonl, startStack, writeJobInput, type TestStack } from './helpers/stack';
import { sendsByCustomId, userIdOf } from './helpers/wire';

/** The job (by the user custom_id prefix, low- or high-) of each created batch, in creation order. */
async function batchOwners(stack: TestStack): Promise<(string | undefined)[]> {
  const owners: (string | undefined)[] = [];
  for (const c of stack.emulator.stats().createLog) owners.push((await userIdOf(stack.store, c.firstCustomId))?.customId.split('-')[0]);
  return owners;
}

const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 16 };
const POLL = { initialMs: 150, growth: 1.2, capMs: 300 };
/** Every batch takes 2.5 s of real time: long enough to be in flight when the urgent job arrives. */
const SLOW_BATCHES = { timeScale: 0.001, latency: { batch: { kind: 'fixed' as const, ms: 2_500_000 }, spread: 0 } };
/** Room for three sub-batches of 100 in the whole batch queue. */
const CAPACITY = { maxRequests: 300, maxBatches: 10 };

const stacks: TestStack[] = [];
after(async () => {
  for (const s of stacks) await s.close();
});

async function start(stack: TestStack, prefix: string, count: number, options: JobOptionsInput) {
  const file = await writeJobInput(count, { customId: (i) => `${prefix}-${i}` });
  const { workflowId } = await startJob({
    client: stack.env.client,
    store: stack.store,
    taskQueue: stack.taskQueue,
    file,
    name: prefix,
    defaults: DEFAULTS,
    options: { poll: POLL, ...options },
  });
  return workflowId;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Has the job collected `collects` batches and then started a timer (its wait) without scheduling a submit? */
async function waitsAfterCollects(stack: TestStack, jobId: string, collects: number): Promise<boolean> {
  const events = (await stack.env.client.workflow.getHandle(jobId).fetchHistory()).events ?? [];
  const collectIds = new Set(
    events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'collectBatch').map((e) => String(e.eventId)),
  );
  const completed = events.flatMap((e, i) =>
    collectIds.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '')) ? [i] : [],
  );
  if (completed.length < collects) return false;
  const after = events.slice(completed[collects - 1]! + 1);
  const timer = after.findIndex((e) => e.timerStartedEventAttributes);
  const submit = after.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'submitBatch');
  assert.ok(submit === -1 || (timer !== -1 && submit > timer), 'a paused job scheduled a submit');
  return timer !== -1;
}

async function resultsOf(stack: TestStack, jobId: string): Promise<OutcomeLine[]> {
  const out = await mkdtemp(path.join(os.tmpdir(), 'sluice-prio-'));
  await downloadResults(stack.store, jobId, out);
  return readJsonl<OutcomeLine>(path.join(out, 'results.jsonl'));
}

test('an urgent job goes first; the low one steps aside, survives a worker restart, and resumes', async () => {
  const stack = await startStack(SLOW_BATCHES);
  stacks.push(stack);
  let worker: Worker = await stack.startWorker({ queueCapacity: CAPACITY });
  let running = worker.run();
  const low = await start(stack, 'low', 900, { priority: 5 });
  await until('the low job to fill the queue', () => stack.emulator.stats().createLog.length === 3);
  const high = await start(stack, 'high', 300, { priority: 1 });

  await until('the low job to step aside', async () => {
    const view = await queueView(stack.env.client, stack.taskQueue);
    return view?.jobs.find((j) => j.jobId === low)?.state === 'preempted';
  });
  const view = (await queueView(stack.env.client, stack.taskQueue))!;
  assert.deepEqual(view.jobs.map((j) => [j.jobId, j.priority, j.state]), [[high, 1, 'waiting'], [low, 5, 'preempted']]);
  await until('the low job to say why it waits', async () => (await jobProgress(stack.env.client, low)).heldReason === `preempted by ${high}`);
  assert.equal((await jobProgress(stack.env.client, low)).phase, 'held');

  // The scheduler and both jobs live on in Temporal: a new worker takes over mid-way.
  worker.shutdown();
  await running;
  worker = await stack.startWorker({ queueCapacity: CAPACITY });
  running = worker.run();

  const [lowSummary, highSummary] = await Promise.all([waitForJob(stack.env.client, low), waitForJob(stack.env.client, high)]);
  worker.shutdown();
  await running;

  const owners = await batchOwners(stack);
  assert.deepEqual(owners.slice(0, 6), ['low', 'low', 'low', 'high', 'high', 'high'], 'no low sub-batch before the high ones are in');
  assert.equal(owners.length, 12);
  assert.equal(highSummary.outcomes.succeeded, 300);
  assert.equal(lowSummary.outcomes.succeeded, 900);
  assert.ok(Object.values(stack.emulator.stats().submissions).every((s) => s.batch === 1), 'nothing was sent twice');
});

test('with --preempt cancel, young low batches are canceled for free and their requests sent again later', async () => {
  const stack = await startStack(SLOW_BATCHES);
  stacks.push(stack);
  const worker = await stack.startWorker({ queueCapacity: CAPACITY });
  const running = worker.run();
  const low = await start(stack, 'low', 500, { priority: 5, preempt: 'cancel' });
  await until('the low job to fill the queue', () => stack.emulator.stats().createLog.length === 3);
  const high = await start(stack, 'high', 200, { priority: 1 });
  await Promise.all([waitForJob(stack.env.client, low), waitForJob(stack.env.client, high)]);
  worker.shutdown();
  await running;

  const stats = stack.emulator.stats();
  assert.ok(stats.calls.cancel >= 2, `young low batches were canceled (${stats.calls.cancel} cancel calls)`);
  const owners = await batchOwners(stack);
  assert.deepEqual(owners.slice(0, 5), ['low', 'low', 'low', 'high', 'high'], 'the high job went in right after the cancel');

  // What the canceled batches returned: canceled requests were never processed, so never billed.
  const anthropic = new Anthropic({ apiKey: stack.emulator.apiKey, baseURL: stack.emulator.url });
  const billed = new Map<string, number>();
  for (const { batchId } of stats.createLog) {
    for await (const line of await anthropic.messages.batches.results(batchId)) {
      const id = (await userIdOf(stack.store, line.custom_id))?.customId ?? line.custom_id;
      if (line.result.type === 'succeeded') billed.set(id, (billed.get(id) ?? 0) + 1);
    }
  }
  const lowResults = await resultsOf(stack, low);
  assert.equal(lowResults.length, 500);
  for (const r of lowResults) {
    assert.equal(r.status, 'succeeded');
    assert.equal(billed.get(r.custom_id), 1, `${r.custom_id} was paid exactly once`);
    assert.equal(r.attempts, 1, 'a cancel to make room does not use up an attempt');
  }
  const resent = lowResults.filter((r) => r.batch_ids.length === 2);
  assert.ok(resent.length >= 100, `${resent.length} requests of canceled batches were sent again`);
  const sends = await sendsByCustomId(stack.store, stats);
  assert.ok(resent.every((r) => sends[r.custom_id]!.batch === 2));
});

test('a priority raised by signal takes effect on the next grant', async () => {
  const stack = await startStack(SLOW_BATCHES);
  stacks.push(stack);
  const worker = await stack.startWorker({ queueCapacity: { maxRequests: 100, maxBatches: 10 } });
  const running = worker.run();
  const first = await start(stack, 'first', 100, { priority: 5 });
  await until('the first job to hold the room', () => stack.emulator.stats().createLog.length === 1);
  const b = await start(stack, 'bee', 100, { priority: 6 });
  const c = await start(stack, 'sea', 100, { priority: 7 });
  await until('both to wait', async () => (await queueView(stack.env.client, stack.taskQueue))?.jobs.length === 3);
  await setJobPriority(stack.env.client, c, 1);
  await Promise.all([first, b, c].map((id) => waitForJob(stack.env.client, id)));
  worker.shutdown();
  await running;
  const owners = await batchOwners(stack);
  assert.deepEqual(owners, ['first', 'sea', 'bee']);
});

test('a paused job submits nothing more until resumed, then finishes', async () => {
  const stack = await startStack(SLOW_BATCHES);
  stacks.push(stack);
  const worker = await stack.startWorker({ queueCapacity: CAPACITY });
  const running = worker.run();
  const job = await start(stack, 'paused', 500, { priority: 5 });
  await until('the first sub-batches', () => stack.emulator.stats().createLog.length === 3);
  await pauseJob(stack.env.client, job);
  await until('the job to say it is paused', async () => (await jobProgress(stack.env.client, job)).heldReason === 'paused');
  // Its three batches end (2.5 s) and free the room, but a paused job takes none of it: once it has collected
  // them and gone back to waiting (a timer after the last collect, with no create in between), nothing was sent.
  await until('the paused job to collect its batches and wait again', () => waitsAfterCollects(stack, job, 3));
  assert.equal(stack.emulator.stats().createLog.length, 3, 'nothing submitted while paused');
  assert.equal((await jobProgress(stack.env.client, job)).requests.succeeded, 300);
  await resumeJob(stack.env.client, job);
  const summary = await waitForJob(stack.env.client, job);
  worker.shutdown();
  await running;
  assert.equal(summary.outcomes.succeeded, 500);
  assert.equal(stack.emulator.stats().createLog.length, 5);
});
