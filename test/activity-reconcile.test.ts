// Submissions that died after their create call: reconciliation finds the batches instead of paying again, and
// results are filed for the requests they really hold even when two lost batches of equal size were swapped.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SubmissionRecord } from '../src/activities/submit';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import { activityHarness, shardLines as fiveLines } from './helpers/activities';

let emulator: EmulatorHandle;
before(async () => {
  emulator = await startEmulator({ timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 300_000 }, spread: 0 } });
});
after(() => emulator.close());

const jobId = 'job-reconcile';
const shardLines = (shard: number) => fiveLines(shard, 5);

test('lost creates are adopted, not repeated, and swapped batches still settle every request once', async () => {
  const { store, anthropic, acts, run } = await activityHarness(emulator);

  // Two submissions recorded their intent, created their batches, and died before recording the ids.
  for (const shard of [0, 1]) {
    const lines = shardLines(shard);
    await store.writeLines(jobKeys.shard(jobId, `s00000${shard}`), lines.map((l) => JSON.stringify(l)));
    const intent: SubmissionRecord = { shardKey: `s00000${shard}`, requests: 5, intentAtMs: Date.now() - 1_000 };
    await store.writeJson(jobKeys.submission(jobId, intent.shardKey), intent);
    await anthropic.messages.batches.create({ requests: lines.map(({ custom_id, params }) => ({ custom_id, params: params as never })) });
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(emulator.stats().calls.create, 2);

  // Retried in the wrong order, each adopts the earliest unclaimed batch: s000001 gets s000000's batch.
  const first = await run(acts.submitBatch, { jobId, shardKey: 's000001' });
  const second = await run(acts.submitBatch, { jobId, shardKey: 's000000' });
  assert.ok(first.reconciled && second.reconciled);
  assert.notEqual(first.batchId, second.batchId);
  assert.equal(emulator.stats().calls.create, 2, 'nothing was created again');
  const again = await run(acts.submitBatch, { jobId, shardKey: 's000001' });
  assert.equal(again.batchId, first.batchId, 'a recorded submission answers from its record');

  await new Promise((r) => setTimeout(r, 600));
  const collected: Awaited<ReturnType<typeof acts.collectBatch>>[] = [];
  for (const [shardKey, batchId] of [['s000001', first.batchId], ['s000000', second.batchId]] as const) {
    collected.push(await run(acts.collectBatch, { jobId, batchId, shardKey, maxAttempts: 3, jobCanceled: false }));
  }
  assert.deepEqual(collected.map((c) => [c.succeeded, c.retry]), [[5, 0], [5, 0]], 'no request is missing, none resent');
  for (const shard of [0, 1]) {
    const keys = await store.list(jobKeys.outcomesOf(jobId, shard));
    const outcomes: OutcomeLine[] = [];
    for (const key of keys) for await (const text of store.readLines(key)) outcomes.push(JSON.parse(text) as OutcomeLine);
    assert.deepEqual(outcomes.map((o) => o.custom_id).sort(), shardLines(shard).map((l) => l.custom_id));
  }
  assert.ok(Object.values(emulator.stats().submissions).every((s) => s.batch === 1));
});
