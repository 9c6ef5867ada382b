// An ended batch's timing record is written once, by the first poll that sees it end: a second poll (the job's own
// after the account poller's walk, or a poll run again) neither moves its first sighting nor writes a second record;
// a walk that sees thousands end at once keeps what it hands back to the poller's history bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TIMINGS_HANDED_BACK } from '../src/activities/account-poll';
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

test('a walk that sees thousands end at once hands back a bounded set of timings and records the rest itself', { timeout: 120_000 }, async () => {
  const emulator = await startEmulator({ timeScale: 0.00001 });
  try {
    const h = await activityHarness(emulator);
    const count = TIMINGS_HANDED_BACK + 7;
    const watched: { batchId: string; submittedAtMs: number }[] = [];
    for (let i = 0; i < count; i += 50) {
      const made = await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, (_, k) =>
          h.anthropic.messages.batches.create({
            requests: [{ custom_id: `r${i + k}`, params: { model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } }],
          }),
        ),
      );
      for (const b of made) watched.push({ batchId: b.id, submittedAtMs: Date.parse(b.created_at) });
    }
    // Wait until the emulator has ended every batch (a fixed 200 ms wait saw 1,006 of 1,007 on a loaded machine).
    for (;;) {
      let ended = 0;
      for await (const b of h.anthropic.messages.batches.list({ limit: 1000 })) if (b.processing_status === 'ended') ended++;
      if (ended >= count) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const walked = await runAttempt(h.acts.walkBatchList, { watched, recordsOutside: true }, 1);
    assert.equal(walked.ended.length, count, 'every ended batch is reported');
    assert.equal(walked.timings?.length, TIMINGS_HANDED_BACK, 'at most the bound travels in the poller’s history');
    const recordedByWalk = (await h.store.list('timings/')).length;
    assert.equal(recordedByWalk, count - TIMINGS_HANDED_BACK, 'the rest were recorded by the walk');
    await runAttempt(h.acts.recordEndedBatches, { timings: walked.timings ?? [] }, 1);
    assert.equal((await h.store.list('timings/')).length, count, 'every ended batch has its record');
  } finally {
    await emulator.close();
  }
});
