// The report finalize draws while it writes results.jsonl places each synchronously answered request at the end of
// the sub-batch that answered it, taken from the outcome's own file, not from a map of every sync record (one entry
// per request: it grew with the job in the worker). What a user relies on: the page finalize writes shows the same
// charts as `sluice report` drawn afterwards from results.jsonl, and synchronous answers are on the timeline.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jobKeys, originalShardKey, type OutcomeLine, type SyncTiming } from '../src/domain/job';
import { DEFAULT_PRICES } from '../src/domain/prices';
import { buildJobReport } from '../src/report';
import { readReportRecords } from '../src/report/read-records';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import { activityHarness, shardLines } from './helpers/activities';

let emulator: EmulatorHandle;
before(async () => {
  emulator = await startEmulator({ port: 0 });
});
after(() => emulator.close());

const chartOptions = (html: string) => JSON.parse(/<script id="sluice-chart-options" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!) as unknown;

test('finalize\'s report matches the report drawn later from results.jsonl, synchronous answers at their sub-batch\'s end', async () => {
  const { store, acts, run } = await activityHarness(emulator);
  const jobId = 'finalize-report-sync';
  // Shards 0 and 1 answered synchronously (two sub-batches), shard 2 by a batch.
  for (const s of [0, 1]) {
    await store.writeLines(jobKeys.shard(jobId, originalShardKey(s)), shardLines(s, 30).map((l) => JSON.stringify(l)));
    await run(acts.runSync, { jobId, shardKey: originalShardKey(s), concurrency: 4 });
  }
  const batched: OutcomeLine[] = shardLines(2, 30).map((l) => ({
    custom_id: l.custom_id, line: l.line, status: 'succeeded', attempts: 1, batch_ids: ['msgbatch_b2'],
    message: { model: 'claude-haiku-4-5', usage: { input_tokens: 3, output_tokens: 2 } },
  }));
  await store.writeLines(jobKeys.shard(jobId, originalShardKey(2)), shardLines(2, 30).map((l) => JSON.stringify(l)));
  await store.writeLines(jobKeys.outcomes(jobId, 2, 'msgbatch_b2'), batched.map((o) => JSON.stringify(o)));

  const summary = await run(acts.finalizeJob, { jobId, name: 'sync report', shardCount: 3, jobCanceled: false, startedAtMs: Date.now() - 60_000, batchesCreated: 1, apiCalls: {} });
  assert.equal(summary.byMode.sync, 60);

  const page: string[] = [];
  for await (const line of store.readLines(jobKeys.output(jobId, 'report.html'))) page.push(line);
  const written = chartOptions(page.join('\n'));
  const drawnLater = chartOptions(await buildJobReport({ store, jobId, prices: DEFAULT_PRICES }));
  assert.deepEqual(written, drawnLater);

  // The 60 synchronous answers are settled at their two sub-batches' ends (30 each), not at the job's end.
  const ends = await Promise.all([0, 1].map((s) => store.readJson<SyncTiming>(jobKeys.syncTiming(jobId, originalShardKey(s)))));
  const { outcomes } = await readReportRecords({ store, jobId, prices: DEFAULT_PRICES });
  const syncPoints = outcomes.settled.filter((p) => ends.some((t) => t!.endedAtMs === p.atMs));
  assert.equal(syncPoints.reduce((n, p) => n + p.succeeded, 0), 60);
});
