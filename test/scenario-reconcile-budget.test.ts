// A lost create whose look-alike stays `canceling` for a long while. Each look used to be one attempt of the submit
// activity, and the retry policy allows 60: a cancel that took longer than 60 looks (about 5 minutes at the default
// 5 s) stopped the job. An attempt now keeps looking within itself, so the attempts last as long as the API does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobKeys } from '../src/domain/job';
import type { SubmissionRecord } from '../src/domain/submission-records';
import { startEmulator, type EmulatorOptions } from '../src/emulator';
import { SHORT_CALL_MAX_ATTEMPTS } from '../src/workflows/activity-options';
import { activityHarness, shardLines } from './helpers/activities';
import { asTemporalRetries, assertEveryRequestOnce, finishJob, runAttempt, writeShard } from './helpers/shard-driver';

const SUBMISSION = { createTimeoutMs: 1_500, listLagMs: 300, claimGraceMs: 600, skewMs: 1_000, recheckMs: 100 };
/** Batches take 3 s (real) and a cancel takes 12 s to end: 60 looks 100 ms apart are over long before. */
const SLOW_CANCEL: EmulatorOptions = {
  timeScale: 0.001,
  latency: { batch: { kind: 'fixed', ms: 3_000_000 }, spread: 0 },
  cancelDelayMs: 12_000_000,
};
const submission = { jobId: 'job-slow-cancel', shardKey: 's000000' };

test('a lost create whose look-alike stays canceling longer than the attempts allow is still adopted', { timeout: 90_000 }, async () => {
  const faults = { targeted: [{ endpoint: 'create' as const, calls: [1], action: 'resetAfter' as const }] };
  const emulator = await startEmulator({ ...SLOW_CANCEL, faults });
  try {
    const h = await activityHarness(emulator, { submission: SUBMISSION });
    const lines = shardLines(0, 5, (i) => `doc-${i}`);
    await writeShard(h, submission.jobId, submission.shardKey, lines);

    // The workflow's retry policy: at most SHORT_CALL_MAX_ATTEMPTS attempts of the submit activity.
    const r = await asTemporalRetries((attempt) => runAttempt(h.acts.submitBatch, submission, attempt), SHORT_CALL_MAX_ATTEMPTS);
    const [created] = emulator.stats().createLog;
    assert.ok(emulator.stats().calls.cancel >= 1, 'the unclaimed look-alike was canceled to learn whose it is');
    assert.deepEqual([r.batchId, r.reconciled, emulator.stats().batches], [created!.batchId, true, 1], 'adopted, not created again');
    const record = await h.store.readJson<SubmissionRecord>(jobKeys.submission(submission.jobId, submission.shardKey));
    assert.equal(record?.batchId, created!.batchId);

    await finishJob(h, submission.jobId, [{ shardKey: submission.shardKey, submitted: Promise.resolve(r) }]);
    await assertEveryRequestOnce(h, emulator, [{ jobId: submission.jobId, origins: [lines] }]);
  } finally {
    await emulator.close();
  }
});
