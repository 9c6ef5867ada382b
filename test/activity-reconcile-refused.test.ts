// A create the API refused (429) created nothing: the next attempt creates again instead of reconciling, so it
// cannot adopt another submission's lost batch of the same size. And a shard that did adopt another's batch is
// sent again as the same attempt, without that batch in its batch_ids (both seen in `npm run chaos`). And a batch
// the submission itself claimed before dying, with no batch id recorded yet, is its own.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SubmissionRecord } from '../src/activities/submit';
import { jobKeys, type ShardLine } from '../src/domain/job';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import { activityHarness, shardLines as fiveLines } from './helpers/activities';

let emulator: EmulatorHandle;
before(async () => {
  emulator = await startEmulator({
    timeScale: 0.001,
    latency: { batch: { kind: 'fixed', ms: 200_000 }, spread: 0 },
    // The first create call of the test is refused.
    faults: { rateLimit: { rate: 1, endpoints: ['create'], maxTimes: 1, retryAfterSeconds: 0 } },
  });
});
after(() => emulator.close());

const shardLines = (shard: number) => fiveLines(shard, 5);

async function setup(jobId: string) {
  const { store, anthropic, acts, run } = await activityHarness(emulator);
  for (const shard of [0, 1]) {
    await store.writeLines(jobKeys.shard(jobId, `s00000${shard}`), shardLines(shard).map((l) => JSON.stringify(l)));
  }
  const createLost = async (shard: number) => {
    const intent: SubmissionRecord = { shardKey: `s00000${shard}`, requests: 5, intentAtMs: Date.now() - 1_000 };
    await store.writeJson(jobKeys.submission(jobId, intent.shardKey), intent);
    const lines = shardLines(shard).map(({ custom_id, params }) => ({ custom_id, params: params as never }));
    return anthropic.messages.batches.create({ requests: lines });
  };
  return { store, acts, run, createLost };
}

test('a refused create leaves no intent: the retry creates its own batch and adopts no other', async () => {
  const jobId = 'job-refused';
  const { store, acts, run, createLost } = await setup(jobId);

  // s000001's create is refused (429): nothing was created, so nothing is left to reconcile.
  await assert.rejects(run(acts.submitBatch, { jobId, shardKey: 's000001' }), /rate limited/);
  assert.equal(await store.readJson(jobKeys.submission(jobId, 's000001')), undefined, 'the intent is forgotten');
  // Meanwhile s000000 creates its batch and dies before recording it.
  const lost = await createLost(0);

  const b = await run(acts.submitBatch, { jobId, shardKey: 's000001' });
  assert.equal(b.reconciled, false, 's000001 created its own batch');
  assert.notEqual(b.batchId, lost.id, "it did not adopt s000000's lost batch");
  const a = await run(acts.submitBatch, { jobId, shardKey: 's000000' });
  assert.deepEqual([a.reconciled, a.batchId], [true, lost.id], 's000000 found its own lost batch');

  const stats = emulator.stats();
  assert.equal(stats.batches, 2);
  assert.ok(Object.values(stats.submissions).every((s) => s.batch === 1), 'every request sent once');
});

test('a shard whose adopted batch holds none of its requests goes again as the same attempt', async () => {
  const jobId = 'job-foreign';
  const { store, acts, run, createLost } = await setup(jobId);
  // s000001 adopted s000000's batch (say its own create had no answer); s000000 then created another one.
  const foreign = await createLost(0);
  await store.writeJson(jobKeys.submission(jobId, 's000001'), {
    shardKey: 's000001',
    requests: 5,
    intentAtMs: Date.now() - 2_000,
    batchId: foreign.id,
    createdAtMs: Date.parse(foreign.created_at),
    reconciled: true,
  } satisfies SubmissionRecord);
  await store.writeJson(jobKeys.submission(jobId, 's000000'), { shardKey: 's000000', requests: 5, intentAtMs: Date.now() });

  await new Promise((r) => setTimeout(r, 400));
  const r = await run(acts.collectBatch, { jobId, batchId: foreign.id, shardKey: 's000001', maxAttempts: 3, jobCanceled: false });
  assert.deepEqual([r.succeeded, r.failed, r.retry], [0, 0, 5]);
  assert.deepEqual(r.reasons, { not_sent: 5 });
  const retries: ShardLine[] = [];
  for await (const l of store.readLines(jobKeys.retries(jobId, foreign.id))) retries.push(JSON.parse(l) as ShardLine);
  assert.deepEqual(
    retries.map((l) => [l.custom_id, l.attempt, l.batch_ids]),
    shardLines(1).map((l) => [l.custom_id, 1, []]),
    'the same attempt, and no batch that never held them',
  );
  assert.deepEqual(await store.list(jobKeys.outcomesOf(jobId, 0)), [], "s000000's results are left to its own batch");
});

test('a batch this submission claimed before dying (no batch id recorded yet) is adopted, not created again', async () => {
  const jobId = 'job-claimed';
  const { store, acts, run, createLost } = await setup(jobId);
  const lost = await createLost(0);
  // The claim is written first, then the submission record: the worker died in between.
  await store.writeJson(jobKeys.batch(lost.id), { jobId, shardKey: 's000000', requests: 5, createdAtMs: Date.parse(lost.created_at) });
  const createsBefore = emulator.stats().calls.create;
  const r = await run(acts.submitBatch, { jobId, shardKey: 's000000' });
  assert.deepEqual([r.batchId, r.reconciled], [lost.id, true]);
  assert.equal(emulator.stats().calls.create, createsBefore, 'nothing created again');
  assert.equal((await store.readJson<SubmissionRecord>(jobKeys.submission(jobId, 's000000')))?.batchId, lost.id);
});
