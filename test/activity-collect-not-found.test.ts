// A 404 on the results of a batch the poll just saw end is the API catching up: collectBatch fails retryably and
// the next attempt collects. Only a 404 that persists (6 attempts) stops the job. Before, one transient 404 stopped a
// 10,000-request job in `npm run chaos` (seed 2).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { CollectInput, CollectResult } from '../src/activities/collect';
import { jobKeys } from '../src/domain/job';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import { activityHarness, shardLines } from './helpers/activities';

let emulator: EmulatorHandle;
before(async () => {
  emulator = await startEmulator({
    timeScale: 0.001,
    latency: { batch: { kind: 'fixed', ms: 100_000 }, spread: 0 },
    // Results answer 404 for the first 30 s after create, the first three times they are asked for.
    faults: { notFoundAfterCreate: { rate: 1, withinMs: 30_000, endpoints: ['results'], maxTimes: 3 } },
  });
});
after(() => emulator.close());

test('a 404 on the results of an ended batch is retried, and a lasting one stops the job', async () => {
  const jobId = 'job-404';
  const { store, anthropic, acts } = await activityHarness(emulator);
  const lines = shardLines(0, 3, (i) => `r${i}`);
  await store.writeLines(jobKeys.shard(jobId, 's000000'), lines.map((l) => JSON.stringify(l)));
  const batch = await anthropic.messages.batches.create({ requests: lines.map(({ custom_id, params }) => ({ custom_id, params: params as never })) });
  while ((await anthropic.messages.batches.retrieve(batch.id)).processing_status !== 'ended') await new Promise((r) => setTimeout(r, 20));
  const input = { jobId, batchId: batch.id, shardKey: 's000000', maxAttempts: 3, jobCanceled: false };
  const collect = (attempt: number) =>
    new MockActivityEnvironment({ attempt }).run<[CollectInput], CollectResult, typeof acts.collectBatch>(acts.collectBatch, input);

  for (const attempt of [1, 2]) {
    await assert.rejects(collect(attempt), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.nonRetryable, false, `attempt ${attempt} is retried`);
      assert.match(err.message, /not found yet \(attempt \d\); looking again/);
      return true;
    });
  }
  await assert.rejects(collect(6), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.nonRetryable, true, 'a 404 that lasts is fatal');
    assert.match(err.message, /download results of .*: not found \(not_found_error\)/);
    return true;
  });
  const r = await collect(4);
  assert.equal(r.succeeded, 3, 'once the API has caught up, the batch is collected');
});
