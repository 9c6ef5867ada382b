// The learned batch window in a real job (dev server + emulator): the fallback to the fixed window on thin or stale
// records, and the straggler safety net when the records lie about how long batches take.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startJob, waitForJob } from '../src/client/jobs';
import { jobKeys, type BatchTiming } from '../src/domain/job';
import type { SlaPolicyInput } from '../src/domain/sla-route';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';
import { sendsByCustomId } from './helpers/wire';

const SCALE = 0.001;
const DAY_MS = 86_400_000;
const POLL = { initialMs: 200, growth: 1.5, capMs: 500 };
/**
 * Fixed W = 30 s and M = 1 s against deadlines 20 s away: with the fixed window no batch is ever trusted. The
 * learned window (no floor, 50 records suffice) can open the batch path.
 */
const SLA = {
  windowMs: 30_000,
  marginMs: 1_000,
  syncRequestMs: 500,
  window: 'learned',
  learn: { floorMs: 0, minSamples: 50 },
} satisfies SlaPolicyInput;

const stacks: TestStack[] = [];
after(async () => {
  for (const s of stacks) await s.close();
});

/** `count` records of batches that took `tookNominalMs` on the API's clock, seen `agoMs` ago on the worker's. */
async function seedTimings(stack: TestStack, count: number, tookNominalMs: number, agoMs = 60_000) {
  const seenAtMs = Date.now() - agoMs;
  for (let i = 0; i < count; i++) {
    const timing: BatchTiming = {
      batchId: `msgbatch_history${i}`,
      createdAtMs: seenAtMs - tookNominalMs,
      endedAtMs: seenAtMs,
      seenAtMs,
      requests: 100,
      counts: { succeeded: 100, errored: 0, canceled: 0, expired: 0 },
    };
    await stack.store.writeJson(jobKeys.timing(timing.batchId), timing);
  }
}

/** Batches on this emulator take `nominalMs` each (×0.001 in real time). */
async function runLearnedJob(count: number, batchNominalMs: number, seed: (stack: TestStack) => Promise<void>) {
  const stack = await startStack({ timeScale: SCALE, latency: { batch: { kind: 'fixed', ms: batchNominalMs }, spread: 0 } });
  stacks.push(stack);
  await seed(stack);
  const worker = await stack.startWorker({ apiTimeScale: SCALE });
  const file = await writeJobInput(count);
  const deadlineMs = Date.now() + 20_000;
  const { workflowId } = await startJob({
    client: stack.env.client,
    store: stack.store,
    taskQueue: stack.taskQueue,
    file,
    defaults: { model: 'claude-haiku-4-5', max_tokens: 32 },
    options: { poll: POLL, sla: { ...SLA, deadlineMs } },
  });
  const summary = await worker.runUntil(waitForJob(stack.env.client, workflowId));
  const stats = stack.emulator.stats();
  // Batches carry Sluice's wire ids; count sends by the user's custom_id.
  return { summary, stats: { ...stats, submissions: await sendsByCustomId(stack.store, stats) }, deadlineMs, finishedAtMs: Date.parse(summary.finishedAt) };
}

describe('a job with --window learned', () => {
  test('thin records: the window falls back to the fixed 30 s, so nothing is trusted to a batch', async () => {
    // 10 fast batches on record, fewer than the 50 the model needs.
    const { summary, stats } = await runLearnedJob(20, 60_000, (s) => seedTimings(s, 10, 60_000));
    assert.equal(stats.calls.create, 0, 'no batch: the fixed window does not fit before the deadline');
    assert.deepEqual(summary.byMode, { batch: 0, sync: 20 });
    assert.equal(summary.outcomes.succeeded, 20);
  });

  test('stale records: batches seen 8 days ago do not count, and the window falls back to the fixed one', async () => {
    const { summary, stats } = await runLearnedJob(20, 60_000, (s) => seedTimings(s, 80, 60_000, 8 * DAY_MS));
    assert.equal(stats.calls.create, 0);
    assert.deepEqual(summary.byMode, { batch: 0, sync: 20 });
  });

  test('fresh records that say batches are fast: the job batches what the fixed window would have sent synchronously', async () => {
    // History: 80 batches of 60 s nominal (60 ms here). This emulator agrees: batches end in 60 ms.
    const { summary, stats, deadlineMs, finishedAtMs } = await runLearnedJob(300, 60_000, (s) => seedTimings(s, 80, 60_000));
    assert.equal(stats.calls.create, 3);
    assert.deepEqual(summary.byMode, { batch: 300, sync: 0 });
    assert.ok(summary.costUsd < summary.syncEquivalentUsd * 0.51, 'half price');
    assert.ok(finishedAtMs <= deadlineMs);
  });

  test('a wrong model costs money, not the deadline: every straggling batch is canceled and finished synchronously', async () => {
    // The records say 60 ms; this emulator takes 24 h nominal (86 s) for every batch. Three batches of 100 are
    // trusted at submission, then all straggle at once: the cutoff leaves time for two waves of two synchronous
    // sub-batches (2 × 13 calls × 500 ms = 13 s) before the deadline.
    const { summary, stats, deadlineMs, finishedAtMs } = await runLearnedJob(300, DAY_MS, (s) => seedTimings(s, 80, 60_000));
    assert.equal(stats.calls.create, 3, 'the learned window trusted three batches');
    assert.equal(stats.calls.cancel, 3, 'all three straggled and were canceled');
    assert.equal(summary.outcomes.succeeded, 300);
    assert.deepEqual(summary.byMode, { batch: 0, sync: 300 });
    assert.ok(Object.values(stats.submissions).every((s) => s.sync === 1), 'each request paid once, synchronously');
    assert.ok(finishedAtMs <= deadlineMs, `finished ${finishedAtMs - deadlineMs} ms after the deadline`);
  });
});
