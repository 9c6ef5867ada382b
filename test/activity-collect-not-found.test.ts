// A 404 on the results of a batch the poll just saw end is the API catching up: collectBatch fails retryably and
// the next attempt collects. Only a 404 that persists (6 attempts) stops the job. Before, one transient 404 stopped a
// 10,000-request job in `npm run chaos` (seed 2).
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities';
import type { CollectInput, CollectResult } from '../src/activities/collect';
import { jobKeys, type ShardLine } from '../src/domain/job';
import { DEFAULT_PRICES } from '../src/domain/prices';
import { QueueCapacitySchema } from '../src/domain/queue';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';

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
  const store = new LocalDirectoryStore(await mkdtemp(path.join(os.tmpdir(), 'sluice-404-')));
  const anthropic = new Anthropic({ apiKey: emulator.apiKey, baseURL: emulator.url, maxRetries: 0 });
  const acts = createActivities({ store, anthropic, anthropicNoRetry: anthropic, prices: DEFAULT_PRICES, queueCapacity: QueueCapacitySchema.parse({}) });
  const lines: ShardLine[] = Array.from({ length: 3 }, (_, i) => ({
    custom_id: `r${i}`,
    line: i + 1,
    origin: 0,
    attempt: 1,
    batch_ids: [],
    params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: `q ${i}` }] },
  }));
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
