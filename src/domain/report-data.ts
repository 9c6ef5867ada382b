/**
 * What the job report shows, shaped from the store's records of a job: sub-batch timeline, batch latency,
 * requests done over time, cost, failures and attempts, and the job's options. Pure: the records are read by
 * src/report/read-records.ts; the page is drawn by src/report/render-html.ts.
 */
import type { BatchSeenEnded, BatchTiming, JobOptions, OutcomeStatus, SyncTiming } from './job';
import type { OutcomeFacts } from './report-outcomes';
import { latestBatchSubmissionMs } from './sla';

/** The fields of summary.json the report reads (finalize writes more). */
export interface ReportSummary {
  jobId: string;
  name: string;
  requests: number;
  outcomes: Record<OutcomeStatus, number>;
  attempts: Record<string, number>;
  byMode: { batch: number; sync: number };
  tokens: { input: number; output: number; cacheCreation: number; cacheRead: number };
  costUsd: number;
  costByMode: { batch: number; sync: number };
  syncEquivalentUsd: number;
  savedUsd: number;
  unpricedModels: string[];
  batchesCreated: number;
  wallTimeMs: number;
  finishedAt: string;
}

/** What a job was started with (from its workflow's start input): ids, counts and options, no content. */
export interface ReportSpec {
  name: string;
  requestCount: number;
  options: JobOptions;
  source?: string;
  submittedAtMs?: number;
}

/** The fields of a submission record (jobs/<id>/submissions/<shard>.json) the report reads. */
export interface SubmissionFacts {
  shardKey: string;
  requests: number;
  intentAtMs: number;
  batchId?: string;
  createdAtMs?: number;
  reconciled?: boolean;
}

export interface ReportRecords {
  jobId: string;
  summary: ReportSummary;
  /** Undefined when the job's start input could not be read (history gone, or no Temporal client). */
  spec?: ReportSpec;
  submissions: SubmissionFacts[];
  timings: BatchTiming[];
  seenEnded: BatchSeenEnded[];
  syncTimings: SyncTiming[];
  outcomes: OutcomeFacts;
  /** The job's page in the Temporal Web UI. */
  webUiLink?: string;
  generatedAtMs: number;
}

export type TimelineKind = 'batch' | 'retry' | 'sync';

/**
 * One sub-batch on Sluice's clock (the worker's, the deadline's): from the create call (or the first synchronous call)
 * to the moment a poll saw the batch ended (or the last synchronous call ended).
 */
export interface TimelineRow {
  label: string;
  kind: TimelineKind;
  shardKey: string;
  batchId?: string;
  requests: number;
  startMs: number;
  /** The job's end when it never ended (then `ended` is false). */
  endMs: number;
  ended: boolean;
  /** created_at → ended_at as the API reports them (the time-compressed emulator reports nominal time). */
  apiDurationMs?: number;
  /** A cancel was requested before the batch ended (a straggler, a preemption, or the job's cancel). */
  canceled: boolean;
  /** The batch was found by reconciling a submission whose create answer was lost. */
  reconciled: boolean;
  counts?: BatchTiming['counts'];
}

/** Batch durations as the API reports them, created_at → ended_at. */
export interface LatencyFacts {
  /** Batches that ended on their own (canceled ones are left out: their time says nothing of the API's pace). */
  batches: number;
  canceled: number;
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  minMs?: number;
  maxMs?: number;
  bins: { fromMs: number; toMs: number; count: number }[];
}

export interface ReportData {
  jobId: string;
  name: string;
  webUiLink?: string;
  generatedAtMs: number;
  startedAtMs: number;
  finishedAtMs: number;
  deadlineMs?: number;
  latestBatchSubmissionMs?: number;
  summary: ReportSummary;
  options: { field: string; value: string }[];
  timeline: TimelineRow[];
  latency: LatencyFacts;
  /** Cumulative requests done (succeeded + failed) and succeeded, at each moment one was settled. */
  done: { atMs: number; done: number; succeeded: number }[];
  outcomes: OutcomeFacts;
  /** Requests sent as attempt k (k ≥ 2): those that took at least k attempts. */
  retriesByAttempt: { attempt: number; requests: number }[];
}

export function shapeReport(r: ReportRecords): ReportData {
  const finishedAtMs = Date.parse(r.summary.finishedAt);
  const startedAtMs = r.spec?.submittedAtMs ?? finishedAtMs - r.summary.wallTimeMs;
  const sla = r.spec?.options.sla;
  const deadlineMs = sla?.deadlineMs;
  const timeline = timelineRows(r, finishedAtMs);
  return {
    jobId: r.jobId,
    name: r.spec?.name ?? r.summary.name,
    webUiLink: r.webUiLink,
    generatedAtMs: r.generatedAtMs,
    startedAtMs,
    finishedAtMs,
    deadlineMs,
    latestBatchSubmissionMs:
      sla && deadlineMs !== undefined
        ? latestBatchSubmissionMs({ deadlineMs, windowMs: sla.windowMs, marginMs: sla.marginMs })
        : undefined,
    summary: r.summary,
    options: r.spec ? optionRows(r.spec) : [],
    timeline,
    latency: latencyFacts(timeline),
    done: doneOverTime(r.outcomes.settled),
    outcomes: r.outcomes,
    retriesByAttempt: retriesByAttempt(r.outcomes.byAttempts),
  };
}

/**
 * When a batch ended on Sluice's clock: when a poll first saw it ended (a seen-ended record from older Sluice, else
 * the timing's seenAtMs, written once by the first poll that saw it end), else (records from before either existed)
 * its submission plus the API's duration; undefined when it never ended.
 */
export function batchEndedOnSluiceClock(
  submission: Pick<SubmissionFacts, 'intentAtMs'>,
  timing: BatchTiming | undefined,
  seen: BatchSeenEnded | undefined,
): number | undefined {
  if (seen) return seen.seenEndedAtMs;
  if (timing?.seenAtMs !== undefined) return timing.seenAtMs;
  return timing ? submission.intentAtMs + (timing.endedAtMs - timing.createdAtMs) : undefined;
}

/** One row per sub-batch: batches in order of submission, then synchronous sub-batches in order of start. */
export function timelineRows(
  r: Pick<ReportRecords, 'submissions' | 'timings' | 'seenEnded' | 'syncTimings'>,
  finishedAtMs: number,
): TimelineRow[] {
  const timingOf = new Map(r.timings.map((t) => [t.batchId, t]));
  const seenOf = new Map(r.seenEnded.map((t) => [t.batchId, t]));
  const batches = r.submissions
    .filter((s): s is SubmissionFacts & { batchId: string } => s.batchId !== undefined)
    .map((s): TimelineRow => {
      const t = timingOf.get(s.batchId);
      const endedMs = batchEndedOnSluiceClock(s, t, seenOf.get(s.batchId));
      return {
        label: `${s.shardKey} ${s.batchId}`,
        kind: s.shardKey.startsWith('r') ? 'retry' : 'batch',
        shardKey: s.shardKey,
        batchId: s.batchId,
        requests: t?.requests ?? s.requests,
        startMs: s.intentAtMs,
        endMs: endedMs ?? finishedAtMs,
        ended: endedMs !== undefined,
        apiDurationMs: t ? t.endedAtMs - t.createdAtMs : undefined,
        canceled: t?.cancelInitiatedAtMs !== undefined,
        reconciled: s.reconciled ?? false,
        counts: t?.counts,
      };
    });
  const sync = r.syncTimings.map((t): TimelineRow => ({
    label: `${t.shardKey} synchronous`,
    kind: 'sync',
    shardKey: t.shardKey,
    requests: t.requests,
    startMs: t.startedAtMs,
    endMs: t.endedAtMs ?? finishedAtMs,
    ended: t.endedAtMs !== undefined,
    canceled: false,
    reconciled: false,
  }));
  const byStart = (a: TimelineRow, b: TimelineRow) => a.startMs - b.startMs || a.shardKey.localeCompare(b.shardKey);
  return [...batches.sort(byStart), ...sync.sort(byStart)];
}

/** The nearest-rank percentile of sorted values (p in 0..100); undefined for none. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/** Equal-width bins from min to max (about √n of them, 1 to 20); the last bin includes max. */
export function histogram(values: readonly number[]): LatencyFacts['bins'] {
  if (values.length === 0) return [];
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (min === max) return [{ fromMs: min, toMs: max, count: values.length }];
  const n = Math.min(20, Math.max(1, Math.ceil(Math.sqrt(values.length))));
  const width = (max - min) / n;
  const bins = Array.from({ length: n }, (_, i) => ({
    fromMs: min + i * width,
    toMs: i === n - 1 ? max : min + (i + 1) * width,
    count: 0,
  }));
  for (const v of values) bins[Math.min(n - 1, Math.floor((v - min) / width))]!.count++;
  return bins;
}

export function latencyFacts(rows: readonly TimelineRow[]): LatencyFacts {
  const durations = rows
    .flatMap((r) => (r.kind !== 'sync' && !r.canceled && r.apiDurationMs !== undefined ? [r.apiDurationMs] : []))
    .sort((a, b) => a - b);
  return {
    batches: durations.length,
    canceled: rows.filter((r) => r.kind !== 'sync' && r.canceled).length,
    p50Ms: percentile(durations, 50),
    p90Ms: percentile(durations, 90),
    p99Ms: percentile(durations, 99),
    minMs: durations[0],
    maxMs: durations.at(-1),
    bins: histogram(durations),
  };
}

/** Points the done-over-time chart draws at most (past it, the last point of each of this many equal spans of time). */
export const DONE_MAX_POINTS = 1_000;

/**
 * The running totals of requests done, at most maxPoints of them: a step line through the last point of each equal
 * span of time between the first and the last, so the line ends at every request done and is off by at most one
 * span anywhere, whatever the number of batches.
 */
export function doneOverTime(settled: OutcomeFacts['settled'], maxPoints = DONE_MAX_POINTS): ReportData['done'] {
  let done = 0;
  let succeeded = 0;
  const out: ReportData['done'] = [];
  const first = settled[0]?.atMs ?? 0;
  const width = settled.length > maxPoints ? (settled.at(-1)!.atMs - first) / maxPoints : 0;
  const spanOf = (atMs: number) => (width > 0 ? Math.min(maxPoints - 1, Math.floor((atMs - first) / width)) : atMs);
  for (const [i, p] of settled.entries()) {
    done += p.succeeded + p.failed;
    succeeded += p.succeeded;
    const next = settled[i + 1];
    // Keep a point unless the next one falls in the same span of time (then that one carries the total further).
    if (!next || width === 0 || spanOf(next.atMs) !== spanOf(p.atMs)) out.push({ atMs: p.atMs, done, succeeded });
  }
  return out;
}

export function retriesByAttempt(byAttempts: OutcomeFacts['byAttempts']): ReportData['retriesByAttempt'] {
  const taken = Object.entries(byAttempts).map(([k, v]) => ({
    attempts: Number(k),
    requests: Object.values(v).reduce((a, b) => a + (b ?? 0), 0),
  }));
  const most = Math.max(0, ...taken.map((t) => t.attempts));
  const out: ReportData['retriesByAttempt'] = [];
  for (let attempt = 2; attempt <= most; attempt++) {
    out.push({ attempt, requests: taken.filter((t) => t.attempts >= attempt).reduce((a, t) => a + t.requests, 0) });
  }
  return out;
}

/** The job's options as field/value rows, nested groups flattened ("sla.deadlineMs"); times also as ISO. */
export function optionRows(spec: ReportSpec): { field: string; value: string }[] {
  const rows: { field: string; value: string }[] = [
    { field: 'name', value: spec.name },
    { field: 'requests', value: String(spec.requestCount) },
  ];
  // The file's name, not its path: a report is shared, and the path says where someone keeps their files.
  if (spec.source !== undefined)
    rows.push({ field: 'source', value: spec.source.split(/[\\/]/).at(-1) ?? spec.source });
  if (spec.submittedAtMs !== undefined)
    rows.push({ field: 'submitted', value: new Date(spec.submittedAtMs).toISOString() });
  const walk = (prefix: string, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(prefix ? `${prefix}.${k}` : k, v);
      return;
    }
    const text = JSON.stringify(value) ?? 'undefined';
    rows.push({
      field: prefix,
      value: /AtMs$|deadlineMs$/.test(prefix) && typeof value === 'number' ? `${new Date(value).toISOString()}` : text,
    });
  };
  walk('', spec.options);
  return rows;
}
