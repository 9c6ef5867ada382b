// collectBatches collects a round's ended batches as collectBatch would, each once: one that fails is returned with
// its failure while the others are collected and filed; a retry of the activity skips the batches its last attempt
// heartbeated as collected (no second download). Real store, real SDK against the emulator, no Temporal server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { startEmulator } from '../src/emulator';
import { jobKeys } from '../src/domain/job';
import type { CollectBatchesInput, CollectBatchesResult } from '../src/contracts/activities';
import { activityHarness, shardLines } from './helpers/activities';
import { submitRetrying, writeShard } from './helpers/shard-driver';

test('a failed batch is named, the others collected; a retry skips what was heartbeated as collected', { timeout: 60_000 }, async () => {
  const emulator = await startEmulator({ timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 500 }, spread: 0 } });
  try {
    const h = await activityHarness(emulator);
    const jobId = 'job-collect-batches';
    const keys = ['s000000', 's000001', 's000002'];
    for (const [i, key] of keys.entries()) await writeShard(h, jobId, key, shardLines(i, 5));
    const batchIds: string[] = [];
    for (const key of keys) batchIds.push((await submitRetrying(h, jobId, key)).batchId);
    for (const id of batchIds) {
      while ((await h.anthropic.messages.batches.retrieve(id)).processing_status !== 'ended') await new Promise((r) => setTimeout(r, 20));
    }
    const inputOf = (i: number) => ({ jobId, batchId: batchIds[i]!, shardKey: keys[i]!, maxAttempts: 3, jobCanceled: false });
    // The middle batch names a shard the store does not have: its collect fails for good, the others' must not.
    const input: CollectBatchesInput = { batches: [inputOf(0), { ...inputOf(1), shardKey: 's000009' }, inputOf(2)] };
    const beats: unknown[] = [];
    const env = new MockActivityEnvironment({ attempt: 1 });
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const first = await env.run<[CollectBatchesInput], CollectBatchesResult, typeof h.acts.collectBatches>(h.acts.collectBatches, input);

    assert.deepEqual(first.collected.map((c) => [c.batchId, c.result.succeeded]), [[batchIds[0], 5], [batchIds[2], 5]], 'the others, in the order asked');
    assert.deepEqual(first.failed.map((f) => [f.batchId, f.type, f.nonRetryable]), [[batchIds[1], 'BlobNotFoundError', true]]);
    for (const i of [0, 2]) assert.equal((await h.store.list(jobKeys.outcomesOf(jobId, i))).length, 1, `batch ${i}'s outcomes are filed`);
    const last = beats.at(-1) as { collected: CollectBatchesResult['collected'] };
    assert.deepEqual(last.collected.map((c) => c.batchId).sort(), [batchIds[0], batchIds[2]].sort(), 'each collected batch heartbeated');

    // A retry after the worker was lost: the heartbeated batches are not downloaded again; the same answer comes back.
    const downloads = emulator.stats().calls.results;
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: last });
    const second = await retry.run<[CollectBatchesInput], CollectBatchesResult, typeof h.acts.collectBatches>(h.acts.collectBatches, input);
    assert.equal(emulator.stats().calls.results, downloads, 'no batch downloaded again');
    assert.deepEqual(second, first);
  } finally {
    await emulator.close();
  }
});

test('a retry after a large batch heartbeated its lines still skips the batches already collected', { timeout: 60_000 }, async () => {
  const emulator = await startEmulator({ timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 500 }, spread: 0 } });
  try {
    const h = await activityHarness(emulator);
    const jobId = 'job-collect-batches-large';
    // The second batch has more than 1,000 results: its download heartbeats its lines while the first is already done.
    const keys = ['s000000', 's000001'];
    await writeShard(h, jobId, keys[0]!, shardLines(0, 5));
    await writeShard(h, jobId, keys[1]!, shardLines(1, 2_500));
    const batchIds: string[] = [];
    for (const key of keys) batchIds.push((await submitRetrying(h, jobId, key)).batchId);
    for (const id of batchIds) {
      while ((await h.anthropic.messages.batches.retrieve(id)).processing_status !== 'ended') await new Promise((r) => setTimeout(r, 20));
    }
    const input: CollectBatchesInput = {
      batches: keys.map((shardKey, i) => ({ jobId, batchId: batchIds[i]!, shardKey, maxAttempts: 3, jobCanceled: false })),
    };
    const beats: { collected: CollectBatchesResult['collected']; lines?: Record<string, number> }[] = [];
    const env = new MockActivityEnvironment({ attempt: 1 });
    env.on('heartbeat', (d: unknown) => beats.push(d as (typeof beats)[number]));
    const first = await env.run<[CollectBatchesInput], CollectBatchesResult, typeof h.acts.collectBatches>(h.acts.collectBatches, input);
    assert.deepEqual(first.collected.map((c) => c.result.succeeded), [5, 2_500]);

    // The attempt dies during the large download: its last heartbeat is one of that download's line counts.
    const during = beats.filter((b) => b.lines?.[batchIds[1]!] !== undefined);
    assert.ok(during.length >= 2, 'the large download heartbeats its lines');
    const last = during.at(-1)!;
    assert.deepEqual(last.collected.map((c) => c.batchId), [batchIds[0]], 'with the batch already collected in the same details');
    const downloads = emulator.stats().calls.results;
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: last });
    const second = await retry.run<[CollectBatchesInput], CollectBatchesResult, typeof h.acts.collectBatches>(h.acts.collectBatches, input);
    assert.equal(emulator.stats().calls.results, downloads + 1, 'only the large batch is downloaded again');
    assert.deepEqual(second, first);
  } finally {
    await emulator.close();
  }
});
