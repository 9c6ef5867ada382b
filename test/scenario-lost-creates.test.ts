// Lost create answers, aimed at exact calls: reconciliation never guesses, never creates the same requests twice,
// and files every result for its true owner. Scenarios (a)–(d) of "never pay twice, never lose a request", run on
// the real activities, the real store and the emulator through the SDK, with Temporal's retry behaviour.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { jobKeys, type ShardLine } from '../src/domain/job';
import type { BatchIndexEntry, SubmissionRecord } from '../src/domain/submission-records';
import { decodeWireId, wireTag } from '../src/domain/wire-id';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../src/emulator';
import { activityHarness, shardLines } from './helpers/activities';
import { assertEveryRequestOnce, finishJob, runAttempt, submitRetrying, writeShard } from './helpers/shard-driver';

/** Short enough for a test, in the same proportions as the defaults. */
const SUBMISSION = { createTimeoutMs: 1_500, listLagMs: 300, claimGraceMs: 600, skewMs: 1_000, recheckMs: 100 };
/** Batches take 3 s (real): still in progress when the claim grace is over, so the cancel path is taken. */
const SLOW: EmulatorOptions = { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 3_000_000 }, spread: 0 } };

const lostAnswers = (...jobIds: string[]) =>
  jobIds.map((jobId) => ({ endpoint: 'create' as const, customId: `^sl_${wireTag(jobId)}_s000000_`, action: 'resetAfter' as const }));

async function withEmulator(options: EmulatorOptions, fn: (emulator: EmulatorHandle) => Promise<void>) {
  const emulator = await startEmulator(options);
  try {
    await fn(emulator);
  } finally {
    await emulator.close();
  }
}

/** Jobs of one shard s000000 each, `size` requests, written to the store. */
async function setupJobs(h: Awaited<ReturnType<typeof activityHarness>>, jobIds: string[], size = 5) {
  const jobs: { jobId: string; origins: ShardLine[][] }[] = [];
  for (const jobId of jobIds) {
    const lines = shardLines(0, size, (i) => `${jobId}-doc-${i}`);
    await writeShard(h, jobId, 's000000', lines);
    jobs.push({ jobId, origins: [lines] });
  }
  return jobs;
}

async function claimOf(h: Awaited<ReturnType<typeof activityHarness>>, batchId: string) {
  return h.store.readJson<BatchIndexEntry>(jobKeys.batch(batchId));
}

test('(a) two jobs with equal sub-batch sizes lose their create answers at once', { timeout: 60_000 }, async () => {
  await withEmulator({ ...SLOW, faults: { targeted: lostAnswers('job-a', 'job-b') } }, async (emulator) => {
    const h = await activityHarness(emulator, { submission: SUBMISSION });
    const jobs = await setupJobs(h, ['job-a', 'job-b']);
    await Promise.all(jobs.map((j) => finishJob(h, j.jobId, [{ shardKey: 's000000', submitted: submitRetrying(h, j.jobId, 's000000') }])));

    const stats = emulator.stats();
    const [lostA, lostB] = stats.createLog.slice(0, 2);
    for (const lost of [lostA!, lostB!]) {
      const owner = decodeWireId(lost.firstCustomId)!;
      const claim = await claimOf(h, lost.batchId);
      assert.equal(wireTag(claim!.jobId), owner.tag, `${lost.batchId} is filed for the job whose requests it holds`);
    }
    assert.ok(stats.calls.cancel >= 2, 'the two unclaimed look-alikes were canceled to learn whose they are');
    await assertEveryRequestOnce(h, emulator, jobs);
  });
});

test('(b) three lose their answers and two of them reached the API', { timeout: 60_000 }, async () => {
  const neverArrived = { endpoint: 'create' as const, customId: `^sl_${wireTag('job-c')}_s000000_`, calls: [1, 2, 3], action: 'resetBefore' as const };
  await withEmulator({ ...SLOW, faults: { targeted: [...lostAnswers('job-a', 'job-b'), neverArrived] } }, async (emulator) => {
    const h = await activityHarness(emulator, { submission: SUBMISSION });
    const jobs = await setupJobs(h, ['job-a', 'job-b', 'job-c']);
    await Promise.all(jobs.map((j) => finishJob(h, j.jobId, [{ shardKey: 's000000', submitted: submitRetrying(h, j.jobId, 's000000') }])));

    const stats = emulator.stats();
    const firstOf = (jobId: string) => stats.createLog.filter((c) => decodeWireId(c.firstCustomId)?.tag === wireTag(jobId) && c.firstCustomId.includes('_s000000_'));
    assert.deepEqual(['job-a', 'job-b', 'job-c'].map((j) => firstOf(j).length), [1, 1, 1], 'each sub-batch was created once: none adopted another, none created twice');
    for (const jobId of ['job-a', 'job-b', 'job-c']) {
      const record = await h.store.readJson<SubmissionRecord>(jobKeys.submission(jobId, 's000000'));
      assert.equal(record?.batchId, firstOf(jobId)[0]!.batchId, `${jobId} recorded the batch that holds its requests`);
    }
    await assertEveryRequestOnce(h, emulator, jobs);
  });
});

test('(c) the create answer arrives after the activity timed out: the call is aborted and its batch adopted', { timeout: 60_000 }, async () => {
  const late = { endpoint: 'create' as const, calls: [1], action: 'delayAfter' as const, delayMs: 5_000 };
  await withEmulator({ ...SLOW, faults: { targeted: [late] } }, async (emulator) => {
    const h = await activityHarness(emulator, { submission: SUBMISSION });
    const jobs = await setupJobs(h, ['job-late']);
    // The SDK gives up at createTimeoutMs, well before the emulator answers (and before the activity's own timeout).
    await assert.rejects(runAttempt(h.acts.submitBatch, { jobId: 'job-late', shardKey: 's000000' }, 1), /timed out/i);
    assert.equal(emulator.stats().batches, 1, 'the API did create the batch');
    await finishJob(h, 'job-late', [{ shardKey: 's000000', submitted: submitRetrying(h, 'job-late', 's000000') }]);
    const record = await h.store.readJson<SubmissionRecord>(jobKeys.submission('job-late', 's000000'));
    assert.deepEqual([record?.batchId, record?.reconciled], [emulator.stats().createLog[0]!.batchId, true]);
    await assertEveryRequestOnce(h, emulator, jobs);
  });
});

test('(c) a canceled submit aborts its create call, and the retry adopts what it made', { timeout: 60_000 }, async () => {
  const late = { endpoint: 'create' as const, calls: [1], action: 'delayAfter' as const, delayMs: 20_000 };
  await withEmulator({ ...SLOW, faults: { targeted: [late] } }, async (emulator) => {
    const h = await activityHarness(emulator, { submission: { ...SUBMISSION, createTimeoutMs: 30_000 } });
    await setupJobs(h, ['job-cancel']);
    const env = new MockActivityEnvironment();
    const attempt = env.run(h.acts.submitBatch, { jobId: 'job-cancel', shardKey: 's000000' });
    while (emulator.stats().batches === 0) await sleep(10);
    env.cancel();
    await assert.rejects(attempt, (err: unknown) => {
      assert.match(String(err), /abort|cancel/i, 'the call was aborted, not answered');
      return true;
    });
    const r = await submitRetrying(h, 'job-cancel', 's000000');
    assert.deepEqual([r.batchId, r.reconciled], [emulator.stats().createLog[0]!.batchId, true]);
    assert.equal(emulator.stats().batches, 1, 'nothing created again');
  });
});

test('(d) 404 on retrieve right after create, and a list that does not show the new batch yet', { timeout: 60_000 }, async () => {
  const faults = {
    targeted: [{ endpoint: 'create' as const, calls: [1], action: 'resetAfter' as const }],
    notFoundAfterCreate: { rate: 1, withinMs: 1_000, endpoints: ['retrieve' as const, 'results' as const] },
    listLag: { withinMs: 250 },
  };
  await withEmulator({ ...SLOW, faults }, async (emulator) => {
    const h = await activityHarness(emulator, { submission: SUBMISSION });
    const jobs = await setupJobs(h, ['job-404']);
    await finishJob(h, 'job-404', [{ shardKey: 's000000', submitted: submitRetrying(h, 'job-404', 's000000') }]);
    assert.equal(emulator.stats().createLog.filter((c) => c.firstCustomId.includes('_s000000_')).length, 1, 'a batch missing from the list is waited for, not created again');
    await assertEveryRequestOnce(h, emulator, jobs);
  });
});

test('a refused create (429) leaves nothing pending: the next attempt creates at once', { timeout: 30_000 }, async () => {
  await withEmulator({ ...SLOW, faults: { targeted: [{ endpoint: 'create', calls: [1], action: 'error', errorType: 'rate_limit_error' }] } }, async (emulator) => {
    const h = await activityHarness(emulator, { submission: { ...SUBMISSION, createTimeoutMs: 60_000 } });
    await setupJobs(h, ['job-429']);
    await assert.rejects(runAttempt(h.acts.submitBatch, { jobId: 'job-429', shardKey: 's000000' }, 1), /rate/i);
    assert.equal((await h.store.readJson<SubmissionRecord>(jobKeys.submission('job-429', 's000000')))?.refused, true);
    // No wait for a create timeout of a minute: nothing of the refused call can appear.
    const r = await runAttempt(h.acts.submitBatch, { jobId: 'job-429', shardKey: 's000000' }, 2);
    assert.deepEqual([r.reconciled, emulator.stats().batches], [false, 1]);
  });
});
