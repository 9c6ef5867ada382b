// The submission's records across a create whose answer was lost: the exclusive call claim is the only thing written
// before the call (no intent record), so a later attempt, or a worker upgraded mid-job that finds the intent record
// older Sluice wrote, reads the call from what is there and neither creates the same requests again nor loses them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SubmitResult } from '../src/contracts/activities';
import { jobKeys } from '../src/domain/job';
import type { SubmissionCallClaim, SubmissionRecord } from '../src/domain/submission-records';
import { encodeWireId, wireKeys, wireTag, type WireTagEntry } from '../src/domain/wire-id';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../src/emulator';
import { activityHarness, shardLines } from './helpers/activities';
import { assertEveryRequestOnce, finishJob, runAttempt, submitRetrying, writeShard } from './helpers/shard-driver';

const SUBMISSION = { createTimeoutMs: 1_500, listLagMs: 300, claimGraceMs: 600, skewMs: 1_000, recheckMs: 100 };
/** Batches end within a few milliseconds: a reconcile reads the lost batch's wire ids instead of canceling it. */
const FAST: EmulatorOptions = { timeScale: 0.00001 };
const SHARD = 's000000';

async function withEmulator(options: EmulatorOptions, fn: (emulator: EmulatorHandle) => Promise<void>) {
  const emulator = await startEmulator(options);
  try {
    await fn(emulator);
  } finally {
    await emulator.close();
  }
}

const createsOf = (emulator: EmulatorHandle, jobId: string) =>
  emulator.stats().createLog.filter((c) => c.firstCustomId.startsWith(`sl_${wireTag(jobId)}_${SHARD}_`));

test('a worker upgraded mid-submission adopts the batch of the call an older worker recorded as its intent', { timeout: 60_000 }, async () => {
  await withEmulator(FAST, async (emulator) => {
    const h = await activityHarness(emulator, { submission: SUBMISSION });
    const jobId = 'job-upgraded';
    const lines = shardLines(0, 5, (i) => `doc-${i}`);
    await writeShard(h, jobId, SHARD, lines);

    // What the older worker left: its tag, its call claim, the intent record it wrote before calling, and the batch the
    // call created (the worker stopped before the answer came back).
    const tag = wireTag(jobId);
    await h.store.createJsonExclusive(wireKeys.tag(tag), { jobId } satisfies WireTagEntry);
    const callAtMs = Date.now() - 50;
    await h.store.createJsonExclusive(jobKeys.submissionCall(jobId, SHARD, 1), { callAtMs, attempt: 1 } satisfies SubmissionCallClaim);
    const intent: SubmissionRecord = { shardKey: SHARD, requests: lines.length, intentAtMs: callAtMs, callAtMs, calls: 1 };
    await h.store.writeJson(jobKeys.submission(jobId, SHARD), intent);
    const lost = await h.anthropic.messages.batches.create({
      requests: lines.map((l, i) => ({ custom_id: encodeWireId(tag, SHARD, i), params: l.params as never })),
    });

    const r = await submitRetrying(h, jobId, SHARD);
    assert.deepEqual([r.batchId, r.reconciled], [lost.id, true], 'the older worker’s batch was adopted');
    assert.equal(createsOf(emulator, jobId).length, 1, 'the same requests were not created again');
    const record = await h.store.readJson<SubmissionRecord>(jobKeys.submission(jobId, SHARD));
    assert.deepEqual([record?.batchId, record?.intentAtMs, record?.calls], [lost.id, callAtMs, 1], 'the record keeps the first call’s start');

    await finishJob(h, jobId, [{ shardKey: SHARD, submitted: Promise.resolve(r) }]);
    await assertEveryRequestOnce(h, emulator, [{ jobId, origins: [lines] }]);
  });
});

test('a lost answer leaves only the call claim, and the next attempt adopts that call’s batch', { timeout: 60_000 }, async () => {
  const lostAnswer = { endpoint: 'create' as const, calls: [1], action: 'resetAfter' as const };
  await withEmulator({ ...FAST, faults: { targeted: [lostAnswer] } }, async (emulator) => {
    const h = await activityHarness(emulator, { submission: SUBMISSION });
    const jobId = 'job-lost';
    const lines = shardLines(0, 5, (i) => `doc-${i}`);
    await writeShard(h, jobId, SHARD, lines);

    await assert.rejects(runAttempt(h.acts.submitBatch, { jobId, shardKey: SHARD }, 1), 'the answer of the first call is lost');
    const claim = await h.store.readJson<SubmissionCallClaim>(jobKeys.submissionCall(jobId, SHARD, 1));
    assert.ok(claim, 'the call was claimed before it was made');
    assert.equal(await h.store.readJson(jobKeys.submission(jobId, SHARD)), undefined, 'nothing but the claim was written before the call');

    const r = await submitRetrying(h, jobId, SHARD);
    const [created] = createsOf(emulator, jobId);
    assert.deepEqual([r.batchId, r.reconciled], [created!.batchId, true], 'the lost create was adopted');
    assert.equal(createsOf(emulator, jobId).length, 1, 'no second create of the same requests');
    const record = await h.store.readJson<SubmissionRecord>(jobKeys.submission(jobId, SHARD));
    assert.deepEqual([record?.intentAtMs, record?.callAtMs, record?.calls], [claim.callAtMs, claim.callAtMs, 1]);

    await finishJob(h, jobId, [{ shardKey: SHARD, submitted: Promise.resolve(r) }]);
    await assertEveryRequestOnce(h, emulator, [{ jobId, origins: [lines] }]);
  });
});

test('a refused call on record does not hide a later call whose answer was lost: it is reconciled, not created again', { timeout: 60_000 }, async () => {
  const faults = {
    targeted: [
      { endpoint: 'create' as const, calls: [1], action: 'error' as const, errorType: 'rate_limit_error' as const },
      { endpoint: 'create' as const, calls: [2], action: 'resetAfter' as const },
    ],
  };
  await withEmulator({ ...FAST, faults }, async (emulator) => {
    const h = await activityHarness(emulator, { submission: SUBMISSION });
    const jobId = 'job-refused-then-lost';
    const lines = shardLines(0, 5, (i) => `doc-${i}`);
    await writeShard(h, jobId, SHARD, lines);

    await assert.rejects(runAttempt(h.acts.submitBatch, { jobId, shardKey: SHARD }, 1), /rate/i);
    await assert.rejects(runAttempt(h.acts.submitBatch, { jobId, shardKey: SHARD }, 2), 'the second call’s answer is lost');
    // The record still says the first call was refused; only the claim tells of the second.
    assert.equal((await h.store.readJson<SubmissionRecord>(jobKeys.submission(jobId, SHARD)))?.refused, true);

    const r: SubmitResult = await submitRetrying(h, jobId, SHARD);
    const created = createsOf(emulator, jobId);
    assert.equal(created.length, 1, 'the lost call’s batch was not created again');
    assert.deepEqual([r.batchId, r.reconciled], [created[0]!.batchId, true]);
    const record = await h.store.readJson<SubmissionRecord>(jobKeys.submission(jobId, SHARD));
    assert.deepEqual([record?.calls, record?.refused], [2, undefined]);

    await finishJob(h, jobId, [{ shardKey: SHARD, submitted: Promise.resolve(r) }]);
    await assertEveryRequestOnce(h, emulator, [{ jobId, origins: [lines] }]);
  });
});
