// The plan activity reads the job's input once: it checks every request against the account's models and cuts the
// shards as it reads. What a user relies on: the shards are the requests in input order with their first attempt's
// fields (a canary first, priced for a budget); a refused model leaves no shard behind and no plan; and a cache mark
// found after some in-order shards were cut makes the plan cut by group, with no stale shard of the in-order cut left.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { prepareInput } from '../src/client/prepare-input';
import { jobKeys, originalShardKey, type NormalizedRequest } from '../src/domain/job';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import type { BlobStore } from '../src/store/blob-store';
import { activityHarness } from './helpers/activities';

let emulator: EmulatorHandle;
before(async () => {
  emulator = await startEmulator({ port: 0 });
});
after(() => emulator.close());

const ask = (i: number, extra: Record<string, unknown> = {}) => ({
  custom_id: `q${i}`,
  params: { model: 'claude-haiku-4-5', max_tokens: 8 + i, messages: [{ role: 'user', content: `question ${i} "quoted" é` }], ...extra },
});

async function stored(store: BlobStore, jobId: string, lines: unknown[]): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'sluice-plan-')), 'input.jsonl');
  await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return (await prepareInput({ file, jobId, store })).inputKey;
}

async function linesOf(store: BlobStore, key: string): Promise<string[]> {
  const out: string[] = [];
  for await (const line of store.readLines(key)) out.push(line);
  return out;
}

test('shards are the input in order with the first attempt fields: a canary first, each request priced', async () => {
  const { store, acts, run } = await activityHarness(emulator);
  const jobId = 'plan-order';
  const inputKey = await stored(store, jobId, Array.from({ length: 25 }, (_, i) => ask(i)));
  const plan = await run(acts.planJob, { jobId, inputKey, batchSize: 10, firstShardSize: 3, priceWorstCase: true });
  assert.deepEqual(plan.shardSizes, [3, 10, 10, 2]);
  assert.equal(plan.requestCount, 25);
  const requests = (await linesOf(store, inputKey)).map((t) => JSON.parse(t) as NormalizedRequest);
  let next = 0;
  for (let shard = 0; shard < plan.shardSizes.length; shard++) {
    const lines = await linesOf(store, jobKeys.shard(jobId, originalShardKey(shard)));
    let usd = 0;
    for (const text of lines) {
      const parsed = JSON.parse(text) as { worst_usd: number };
      assert.ok(parsed.worst_usd > 0, 'each request is priced');
      usd += parsed.worst_usd;
      // The same bytes as the request rebuilt with its attempt fields.
      assert.equal(text, JSON.stringify({ ...requests[next++], origin: shard, attempt: 1, batch_ids: [], worst_usd: parsed.worst_usd }));
    }
    assert.ok(Math.abs(plan.shardWorstUsd![shard]! - usd) < 1e-12, `shard ${shard} is priced as the sum of its requests`);
  }
  assert.equal(next, 25);
  assert.deepEqual(await store.readJson(jobKeys.plan(jobId)), plan, 'plan.json is what the activity returned');
});

test('a model the account lacks on the last line: refused by line, with no shard and no plan left in the store', async () => {
  const { store, acts, run } = await activityHarness(emulator);
  const jobId = 'plan-refused';
  const inputKey = await stored(store, jobId, [...Array.from({ length: 9 }, (_, i) => ask(i)), ask(9, { model: 'claude-opus-9' })]);
  await assert.rejects(run(acts.planJob, { jobId, inputKey, batchSize: 2 }), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, 'InputError');
    assert.match(err.message, /line 10: params\.model: is not a model this account can use/);
    return true;
  });
  assert.deepEqual(await store.list(`jobs/${jobId}/shards/`), [], 'the shards cut before the refusal are gone');
  assert.equal(await store.readJson(jobKeys.plan(jobId)), undefined);
});

test('a cache mark after some in-order shards were cut: shards by cache group, none of the in-order cut left', async () => {
  const { store, acts, run } = await activityHarness(emulator);
  const jobId = 'plan-mark-late';
  const shared = { type: 'text', text: 'a long shared instruction '.repeat(200), cache_control: { type: 'ephemeral' } };
  const lines = Array.from({ length: 30 }, (_, i) => (i >= 20 && i % 2 === 0 ? ask(i, { system: [shared] }) : ask(i)));
  const inputKey = await stored(store, jobId, lines);
  const plan = await run(acts.planJob, { jobId, inputKey, batchSize: 4 });
  assert.equal(plan.orderSegments, 8, 'outcomes are filed by input-order segments');
  assert.equal(plan.cacheGroups, 1);
  const keys = await store.list(`jobs/${jobId}/shards/`);
  assert.equal(keys.length, plan.shardSizes.length, 'only the grouped shards are in the store');
  const ids = new Set<string>();
  for (const key of keys) for (const text of await linesOf(store, key)) ids.add((JSON.parse(text) as NormalizedRequest).custom_id);
  assert.equal(ids.size, 30, 'every request is in exactly one shard');
});
