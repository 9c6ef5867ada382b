// Two attempts of one submission at once. Temporal schedules the next attempt of the submit activity when its
// heartbeat timeout passes, but an attempt that does not heartbeat (reconciling: listing, reading results) learns
// nothing of it and runs on. Both then see no batch of theirs and would each create one: the same requests paid
// twice. Every create call is claimed in the store first, so only one of them calls.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { jobKeys } from '../src/domain/job';
import type { SubmissionRecord } from '../src/domain/submission-records';
import { startEmulator, type EmulatorOptions } from '../src/emulator';
import { activityHarness, shardLines } from './helpers/activities';
import { assertEveryRequestOnce, finishJob, runAttempt, submitRetrying, writeShard } from './helpers/shard-driver';

const SUBMISSION = { createTimeoutMs: 1_500, listLagMs: 300, claimGraceMs: 600, skewMs: 1_000, recheckMs: 100 };
const SLOW: EmulatorOptions = { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 3_000_000 }, spread: 0 } };
const submission = { jobId: 'job-overlap', shardKey: 's000000' };

test('an attempt still reconciling when the next one starts never creates: one create for the shard', { timeout: 60_000 }, async () => {
  const faults = {
    targeted: [
      // The first create never reaches the API: nothing of it can appear, both later attempts must decide to create.
      { endpoint: 'create' as const, calls: [1], action: 'resetBefore' as const },
      // The stale attempt's list is answered late, with what the list held when it asked (no batch yet).
      { endpoint: 'list' as const, calls: [1], action: 'delayAfter' as const, delayMs: 2_000 },
    ],
  };
  const emulator = await startEmulator({ ...SLOW, faults });
  try {
    const h = await activityHarness(emulator, { submission: SUBMISSION });
    const lines = shardLines(0, 5, (i) => `doc-${i}`);
    await writeShard(h, submission.jobId, submission.shardKey, lines);

    await assert.rejects(runAttempt(h.acts.submitBatch, submission, 1), 'the first call has no answer');
    await sleep(SUBMISSION.createTimeoutMs + SUBMISSION.listLagMs + 100); // no batch of the first call can still appear

    // Attempt 2 reconciles; its list answer is late. Meanwhile (its heartbeat timeout passed) attempt 3 runs.
    const stale = runAttempt(h.acts.submitBatch, submission, 2).then(
      (r) => ({ ok: true as const, r }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    while (emulator.stats().calls.list < 1) await sleep(10);
    const current = await runAttempt(h.acts.submitBatch, submission, 3);
    assert.equal(emulator.stats().batches, 1, 'attempt 3 created the batch');
    const late = await stale;

    assert.equal(emulator.stats().batches, 1, 'the stale attempt did not create the same requests again');
    if (late.ok) assert.equal(late.r.batchId, current.batchId, 'a stale attempt that answers names the same batch');
    const record = await h.store.readJson<SubmissionRecord>(jobKeys.submission(submission.jobId, submission.shardKey));
    assert.equal(record?.batchId, current.batchId, 'the record keeps the batch that was created');

    await finishJob(h, submission.jobId, [{ shardKey: submission.shardKey, submitted: submitRetrying(h, submission.jobId, submission.shardKey) }]);
    await assertEveryRequestOnce(h, emulator, [{ jobId: submission.jobId, origins: [lines] }]);
  } finally {
    await emulator.close();
  }
});

test('a list answered late is judged as of when it was asked: the lost create it could not show is waited for', { timeout: 60_000 }, async () => {
  const faults = {
    targeted: [
      { endpoint: 'create' as const, calls: [1], action: 'resetAfter' as const }, // created, answer lost
      // Asked at once (the new batch not listed yet), answered after the time a batch of the call could appear.
      { endpoint: 'list' as const, calls: [1], action: 'delayAfter' as const, delayMs: SUBMISSION.createTimeoutMs + SUBMISSION.listLagMs + 700 },
    ],
    listLag: { withinMs: 250 },
  };
  const emulator = await startEmulator({ ...SLOW, faults });
  try {
    const h = await activityHarness(emulator, { submission: SUBMISSION });
    const lines = shardLines(0, 5, (i) => `doc-${i}`);
    await writeShard(h, submission.jobId, submission.shardKey, lines);

    await assert.rejects(runAttempt(h.acts.submitBatch, submission, 1), 'the answer of the first call is lost');
    const r = await submitRetrying(h, submission.jobId, submission.shardKey);
    const [created] = emulator.stats().createLog;
    assert.equal(emulator.stats().batches, 1, 'no second create of the same requests');
    assert.deepEqual([r.batchId, r.reconciled], [created!.batchId, true], 'the lost create was adopted');

    await finishJob(h, submission.jobId, [{ shardKey: submission.shardKey, submitted: Promise.resolve(r) }]);
    await assertEveryRequestOnce(h, emulator, [{ jobId: submission.jobId, origins: [lines] }]);
  } finally {
    await emulator.close();
  }
});
