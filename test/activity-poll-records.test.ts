// An ended batch's timing record is written once, by the first poll that sees it end: a second poll (the job's own
// after the account poller's walk, or a poll run again) neither moves its first sighting nor writes a second record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobKeys, type BatchTiming } from '../src/domain/job';
import { startEmulator } from '../src/emulator';
import { activityHarness, shardLines } from './helpers/activities';
import { runAttempt, submitRetrying, writeShard } from './helpers/shard-driver';

test('a batch seen ended twice keeps the timing of its first sighting, in one record', { timeout: 60_000 }, async () => {
  const emulator = await startEmulator({ timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 50_000 }, spread: 0 } });
  try {
    const h = await activityHarness(emulator);
    await writeShard(h, 'job-timings', 's000000', shardLines(0, 3));
    const { batchId, createdAtMs } = await submitRetrying(h, 'job-timings', 's000000');
    while ((await h.anthropic.messages.batches.retrieve(batchId)).processing_status !== 'ended') await new Promise((r) => setTimeout(r, 20));

    const input = { batches: [{ batchId, submittedAtMs: createdAtMs }], listThreshold: 20 };
    const first = await runAttempt(h.acts.pollBatches, input, 1);
    assert.deepEqual(first.ended.map((e) => e.batchId), [batchId]);
    const recorded = await h.store.readJson<BatchTiming>(jobKeys.timing(batchId));
    assert.equal(recorded?.requests, 3);
    assert.equal(recorded?.counts.succeeded, 3);
    assert.ok(recorded?.seenAtMs !== undefined, 'when the poll first saw it ended');

    await new Promise((r) => setTimeout(r, 20));
    const walked = await runAttempt(h.acts.walkBatchList, { watched: [{ batchId, submittedAtMs: createdAtMs }] }, 1);
    assert.deepEqual(walked.ended.map((e) => e.batchId), [batchId]);
    await runAttempt(h.acts.pollBatches, input, 2);
    assert.deepEqual(await h.store.readJson<BatchTiming>(jobKeys.timing(batchId)), recorded, 'the first sighting stands');
    assert.deepEqual(await h.store.list('timings/'), [jobKeys.timing(batchId)]);
    assert.equal(await h.store.exists(jobKeys.seenEnded(batchId)), false, 'no second record per batch');
  } finally {
    await emulator.close();
  }
});
