/**
 * Reads what the job report is drawn from, all of it from the store's records of one job: summary.json, the
 * submission records, the batches' timings, the synchronous sub-batches' timings and results.jsonl (of which only
 * ids, statuses, attempts, error types, models and usage are kept, never prompts or answers).
 */
import { SluiceError } from '../domain/errors';
import { jobKeys, type BatchSeenEnded, type BatchTiming, type OutcomeLine, type SyncTiming } from '../domain/job';
import { mapLimit } from '../domain/map-limit';
import type { PriceTable } from '../domain/prices';
import {
  batchEndedOnSluiceClock,
  type ReportRecords,
  type ReportSpec,
  type ReportSummary,
  type SubmissionFacts,
} from '../domain/report-data';
import { createOutcomeFold, type OutcomeFoldContext } from '../domain/report-outcomes';
import type { BlobStore } from '../store/blob-store';

export class JobNotFinishedError extends SluiceError {
  override name = 'JobNotFinishedError';
  constructor(readonly jobId: string) {
    super(
      `${jobKeys.output(jobId, 'summary.json')} is not in the store: ${jobId} is not a finished job (see sluice status ${jobId})`,
    );
  }
}

export interface ReadRecordsInput {
  store: BlobStore;
  jobId: string;
  prices: PriceTable;
  spec?: ReportSpec;
  webUiLink?: string;
  /** Called every few thousand outcomes (the finalize activity heartbeats there). */
  onProgress?: (outcomes: number) => void;
}

const READ_CONCURRENCY = 16;
const PROGRESS_EVERY = 5_000;

/**
 * What the report reads besides summary.json and results.jsonl (the submission records, the batches' and sync
 * sub-batches' timings), with a fold for the outcomes: finalize feeds it each outcome as it writes results.jsonl, so
 * the report does not read that file again.
 */
export interface OutcomeReport {
  records: Pick<ReportRecords, 'submissions' | 'timings' | 'seenEnded' | 'syncTimings'>;
  fold: ReturnType<typeof createOutcomeFold>;
  /** When the job finished (summary.finishedAt): outcomes settled at a time not on record count there. Set before fold.result(). */
  context: OutcomeFoldContext;
}

export interface OutcomeReportOptions {
  /** The fold is fed outcomes without the sub-batch that answered them (from results.jsonl): look it up by custom_id. */
  syncShardsById?: boolean;
}

export async function readOutcomeReport(
  store: BlobStore,
  jobId: string,
  prices: PriceTable,
  opts: OutcomeReportOptions = {},
): Promise<OutcomeReport> {
  const submissions = (await readAll<SubmissionFacts>(store, await store.list(jobKeys.submissionsOf(jobId)))).filter(
    (s): s is SubmissionFacts => s !== undefined,
  );
  const batchIds = submissions.flatMap((s) => (s.batchId ? [s.batchId] : []));
  const timings = (await readAll<BatchTiming>(store, batchIds.map(jobKeys.timing))).filter(
    (t): t is BatchTiming => t !== undefined,
  );
  const seenEnded = (await readAll<BatchSeenEnded>(store, batchIds.map(jobKeys.seenEnded))).filter(
    (t): t is BatchSeenEnded => t !== undefined,
  );
  const syncTimings = (await readAll<SyncTiming>(store, await store.list(jobKeys.syncTimingsOf(jobId)))).filter(
    (t): t is SyncTiming => t !== undefined,
  );

  // Which synchronous sub-batch answered a request: finalize knows it from the outcome's file. Only a fold over
  // results.jsonl (the report drawn after the job) looks it up from the sync records' keys, one entry per request
  // answered synchronously: kept out of the worker, where it would grow with the job.
  const syncShardOf = opts.syncShardsById ? await listSyncShards(store, jobId) : undefined;
  const timingOf = new Map(timings.map((t) => [t.batchId, t]));
  const seenOf = new Map(seenEnded.map((t) => [t.batchId, t]));
  const batchEnd = new Map(
    submissions.flatMap((s) =>
      s.batchId
        ? [[s.batchId, batchEndedOnSluiceClock(s, timingOf.get(s.batchId), seenOf.get(s.batchId))] as const]
        : [],
    ),
  );
  const syncEnd = new Map(syncTimings.map((t) => [t.shardKey, t.endedAtMs]));
  const context: OutcomeFoldContext = {
    prices,
    batchEndedAtMs: (batchId) => batchEnd.get(batchId),
    syncEndedAtMs: (customId, syncShard) => {
      const shard = syncShard ?? syncShardOf?.get(customId);
      return shard === undefined ? undefined : syncEnd.get(shard);
    },
    finishedAtMs: Number.NaN,
  };
  return { records: { submissions, timings, seenEnded, syncTimings }, fold: createOutcomeFold(context), context };
}

/** `folded`: the outcomes finalize already folded (readOutcomeReport); without it, results.jsonl is read. */
export async function readReportRecords(i: ReadRecordsInput, folded?: OutcomeReport): Promise<ReportRecords> {
  const { store, jobId } = i;
  const summary = await store.readJson<ReportSummary>(jobKeys.output(jobId, 'summary.json'));
  if (!summary) throw new JobNotFinishedError(jobId);

  const report = folded ?? (await readOutcomeReport(store, jobId, i.prices, { syncShardsById: true }));
  report.context.finishedAtMs = Date.parse(summary.finishedAt);
  if (!folded) {
    let n = 0;
    for await (const text of store.readLines(jobKeys.output(jobId, 'results.jsonl'))) {
      report.fold.add(JSON.parse(text) as OutcomeLine);
      if (++n % PROGRESS_EVERY === 0) i.onProgress?.(n);
    }
  }

  return {
    jobId,
    summary,
    spec: i.spec,
    ...report.records,
    outcomes: report.fold.result(),
    webUiLink: i.webUiLink,
    generatedAtMs: Date.now(),
  };
}

/** custom_id → the synchronous sub-batch that recorded its call: the keys of the sync records say it (sync/<shard>/<id>.json). */
async function listSyncShards(store: BlobStore, jobId: string): Promise<Map<string, string>> {
  const syncPrefix = jobKeys.syncDoneOf(jobId);
  const syncShardOf = new Map<string, string>();
  for (const key of await store.list(syncPrefix)) {
    const [shardKey, file] = key.slice(syncPrefix.length).split('/');
    if (shardKey && file?.endsWith('.json')) syncShardOf.set(file.slice(0, -'.json'.length), shardKey);
  }
  return syncShardOf;
}

function readAll<T>(store: BlobStore, keys: readonly string[]): Promise<(T | undefined)[]> {
  return mapLimit(keys, READ_CONCURRENCY, (key) => store.readJson<T>(key));
}
