// Results archived before they were collected (the API keeps them 29 days after create) answer 404 for good:
// collectBatch retries that 404 as the API catching up, then fails for good with a failure that names the batch and
// says the results are gone, so the job stops with what it has instead of looking again forever. The emulator here
// archives results 1 s (nominal) after create, so the batch is archived by the time it is collected.
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
  emulator = await startEmulator({ timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 50_000 }, spread: 0 }, resultsRetentionMs: 100_000 });
});
after(() => emulator.close());

test('results archived before their collect stop the job with a named failure, after the 404 retries', async () => {
  const jobId = 'job-archived';
  const { store, anthropic, acts } = await activityHarness(emulator);
  const lines = shardLines(0, 3, (i) => `r${i}`);
  await store.writeLines(jobKeys.shard(jobId, 's000000'), lines.map((l) => JSON.stringify(l)));
  const batch = await anthropic.messages.batches.create({ requests: lines.map(({ custom_id, params }) => ({ custom_id, params: params as never })) });
  while ((await anthropic.messages.batches.retrieve(batch.id)).archived_at === null) await new Promise((r) => setTimeout(r, 20));
  const input = { jobId, batchId: batch.id, shardKey: 's000000', maxAttempts: 3, jobCanceled: false };
  const collect = (attempt: number) =>
    new MockActivityEnvironment({ attempt }).run<[CollectInput], CollectResult, typeof acts.collectBatch>(acts.collectBatch, input);

  await assert.rejects(collect(1), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.nonRetryable, false, 'a first 404 may be the API catching up');
    return true;
  });
  await assert.rejects(collect(6), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.nonRetryable, true, 'archived results never come back');
    assert.equal(err.type, 'ResultsGone');
    assert.ok(err.message.includes(batch.id), err.message);
    assert.match(err.message, /the results are gone, archived at \d{4}-\d\d-\d\dT.* \(the API keeps them 29 days after create\); 404 6 times/);
    return true;
  });
  assert.equal(await store.exists(jobKeys.outcomes(jobId, 0, batch.id)), false, 'nothing is filed for the lost results');
});

test('a batch deleted before its collect is named as deleted', async () => {
  const jobId = 'job-deleted';
  const { store, anthropic, acts } = await activityHarness(emulator);
  const lines = shardLines(0, 2, (i) => `d${i}`);
  await store.writeLines(jobKeys.shard(jobId, 's000000'), lines.map((l) => JSON.stringify(l)));
  const batch = await anthropic.messages.batches.create({ requests: lines.map(({ custom_id, params }) => ({ custom_id, params: params as never })) });
  while ((await anthropic.messages.batches.retrieve(batch.id)).processing_status !== 'ended') await new Promise((r) => setTimeout(r, 20));
  await anthropic.messages.batches.delete(batch.id);
  const input = { jobId, batchId: batch.id, shardKey: 's000000', maxAttempts: 3, jobCanceled: false };
  await assert.rejects(
    new MockActivityEnvironment({ attempt: 6 }).run<[CollectInput], CollectResult, typeof acts.collectBatch>(acts.collectBatch, input),
    (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.nonRetryable, true);
      assert.equal(err.type, 'ResultsGone');
      assert.match(err.message, new RegExp(`download results of ${batch.id}: the batch is gone .*: it was deleted`));
      return true;
    },
  );
});
