// Finalize writes failures.jsonl from parts kept in the store while results.jsonl is written (so its memory does not
// grow with the failures). What a user relies on: failures.jsonl is every failed line of results.jsonl, in input
// order, byte for byte, also when there are more failures than one part holds, and nothing of the parts is left.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jobKeys, originalShardKey, type OutcomeLine } from '../src/domain/job';
import { PIECE_MAX_LINES } from '../src/domain/line-pieces';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import type { BlobStore } from '../src/store/blob-store';
import { activityHarness, shardLines } from './helpers/activities';
import { runAttempt } from './helpers/shard-driver';

let emulator: EmulatorHandle;
before(async () => {
  emulator = await startEmulator({ port: 0 });
});
after(() => emulator.close());

async function linesOf(store: BlobStore, key: string): Promise<string[]> {
  const out: string[] = [];
  for await (const line of store.readLines(key)) out.push(line);
  return out;
}

const shards = 6;
const size = 250;

/** Six shards of 250 requests, two in three failed: 1,000 failures, more than one part holds. */
async function seedJob(store: BlobStore, jobId: string) {
  for (let s = 0; s < shards; s++) {
    const lines = shardLines(s, size);
    await store.writeLines(jobKeys.shard(jobId, originalShardKey(s)), lines.map((l) => JSON.stringify(l)));
    const outcomes: OutcomeLine[] = lines.map((l, i) =>
      (s * size + i) % 3 === 0
        ? { custom_id: l.custom_id, line: l.line, status: 'succeeded', attempts: 1, batch_ids: [`b${s}`], message: { model: 'claude-haiku-4-5', usage: { input_tokens: 3, output_tokens: 2 } } }
        : { custom_id: l.custom_id, line: l.line, status: 'failed', attempts: 1, batch_ids: [`b${s}`], error: { type: 'invalid_request_error', message: 'refused' } },
    );
    await store.writeLines(jobKeys.outcomes(jobId, s, `b${s}`), outcomes.map((o) => JSON.stringify(o)));
  }
}

test(`failures.jsonl holds every failed result in order, past ${PIECE_MAX_LINES} failures, and no part is left`, async () => {
  const { store, acts, run } = await activityHarness(emulator);
  const jobId = 'finalize-failures';
  await seedJob(store, jobId);
  const summary = await run(acts.finalizeJob, { jobId, name: 'f', shardCount: shards, jobCanceled: false, startedAtMs: Date.now(), batchesCreated: shards, apiCalls: {} });
  assert.equal(summary.outcomes.failed, 1_000);
  const results = await linesOf(store, jobKeys.output(jobId, 'results.jsonl'));
  assert.equal(results.length, shards * size);
  const failed = results.filter((l) => (JSON.parse(l) as OutcomeLine).status === 'failed');
  assert.deepEqual(await linesOf(store, jobKeys.output(jobId, 'failures.jsonl')), failed);
  assert.deepEqual(await store.list(`jobs/${jobId}/output-parts/`), []);
});

test('an attempt neither reads nor deletes the parts of a later attempt still running, and sweeps an earlier one\'s', async () => {
  const { store, acts } = await activityHarness(emulator);
  const jobId = 'finalize-attempts';
  await seedJob(store, jobId);
  // Attempt 1 died mid-write; attempt 3 (started when attempt 2's heartbeats stopped) is writing its own parts.
  const earlier = jobKeys.outputPart(jobId, 1, 'failures.jsonl', 0);
  const later = jobKeys.outputPart(jobId, 3, 'failures.jsonl', 0);
  await store.writeLines(earlier, ['{"left":"by attempt 1"}']);
  await store.writeLines(later, ['{"written":"by attempt 3"}']);
  const input = { jobId, name: 'f', shardCount: shards, jobCanceled: false, startedAtMs: Date.now(), batchesCreated: shards, apiCalls: {} };
  const summary = await runAttempt(acts.finalizeJob, input, 2);
  assert.equal(summary.outcomes.failed, 1_000);
  const failures = await linesOf(store, jobKeys.output(jobId, 'failures.jsonl'));
  assert.equal(failures.length, 1_000, 'only attempt 2\'s own failures, none of the others\' parts');
  assert.deepEqual(await store.list(jobKeys.outputPartsOf(jobId)), [later]);
});
