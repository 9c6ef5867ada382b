// A results download that ends early without an error (the body closed properly at a line boundary, as a proxy
// that gives up would): before, the requests it left out read as missing from the results and were sent again,
// answered ones paid twice. collectBatch now compares the lines it read with the batch's counts and downloads again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEmulator } from '../src/emulator';
import { activityHarness, shardLines } from './helpers/activities';
import { asTemporalRetries, assertEveryRequestOnce, finishJob, runAttempt, submitRetrying, writeShard } from './helpers/shard-driver';

test('a download that ends cleanly after 2 of 5 lines is downloaded again: nothing is sent twice', { timeout: 60_000 }, async () => {
  const emulator = await startEmulator({
    timeScale: 0.001,
    latency: { batch: { kind: 'fixed', ms: 200_000 }, spread: 0 },
    faults: { resultsCut: { rate: 1, maxTimes: 1, afterLines: 2, ending: 'clean' } },
  });
  try {
    const h = await activityHarness(emulator);
    const jobId = 'job-short';
    const lines = shardLines(0, 5, (i) => `doc-${i}`);
    await writeShard(h, jobId, 's000000', lines);
    const submitted = await submitRetrying(h, jobId, 's000000');
    while ((await h.anthropic.messages.batches.retrieve(submitted.batchId)).processing_status !== 'ended') await new Promise((r) => setTimeout(r, 20));

    const input = { jobId, batchId: submitted.batchId, shardKey: 's000000', maxAttempts: 3, jobCanceled: false };
    await assert.rejects(runAttempt(h.acts.collectBatch, input, 1), /read 2 of its 5 result lines \(the download ended early\); downloading again/);
    const r = await asTemporalRetries((attempt) => runAttempt(h.acts.collectBatch, input, attempt + 1));
    assert.deepEqual([r.succeeded, r.retry], [5, 0], 'all five answers filed, none sent again');

    await finishJob(h, jobId, [{ shardKey: 's000000', submitted: Promise.resolve(submitted) }]);
    assert.deepEqual([emulator.stats().batches, emulator.stats().requestsSubmitted], [1, 5], 'one batch of five requests, nothing paid twice');
    await assertEveryRequestOnce(h, emulator, [{ jobId, origins: [lines] }]);
  } finally {
    await emulator.close();
  }
});
