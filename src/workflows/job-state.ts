/**
 * The job workflow's state: compact (ids, keys, counts), plain JSON so it crosses continue-as-new intact, and
 * the views of it that users see (progress query, Web UI details).
 */
import type { BudgetLedger } from '../domain/budget';
import type { CanaryState } from '../domain/canary';
import { emptyTally, type CostTally } from '../domain/cost';
import { formatDuration } from '../domain/duration';
import { requestsDone } from '../domain/outcome-count';
import { canaryReport, canaryText } from '../domain/canary';
import type { ShardRef } from '../domain/job';
import { initialSeat, type QueueSeatState } from './job-queue';
import { latestBatchSubmissionMs } from '../domain/sla';
import { routeFor, slaAtRisk, type SlaPolicy } from '../domain/sla-route';
import type { JobPhase, JobProgress, SlaView } from '../contracts/messages';
import { budgetViewOf } from './job-budget';
import type { AccountPollState } from './poller-decisions';

// Moved to src/contracts; re-exported so existing imports keep working.
export type { JobPhase, JobProgress, SlaView };

export interface InFlightBatch {
  batchId: string;
  shardKey: string;
  requests: number;
  submittedAtMs: number;
  /** Canceled because it could no longer meet the deadline; its unfinished requests go synchronous. */
  straggler?: boolean;
  /** Canceled by this job to make room for a more urgent one: its canceled requests go back to the queue. */
  preempted?: boolean;
}

export interface JobState {
  phase: JobPhase;
  startedAtMs: number;
  run: number;
  requestCount: number;
  /** Requests per original shard; shard i is originalShardKey(i). */
  shardSizes: number[];
  /** Next original shard to submit: the job's checkpoint. */
  nextShard: number;
  /** Retry shards packed and waiting to be submitted. */
  queued: ShardRef[];
  /** Collected batches whose retries are not packed yet, and how many requests they hold. */
  pendingRetryBatchIds: string[];
  pendingRetryRequests: number;
  retryRound: number;
  inFlight: InFlightBatch[];
  /** Shards being sent through the synchronous API right now. */
  syncInFlight: ShardRef[];
  /**
   * Shards taken for a batch whose create has not answered yet (the submit lane, job-submit-lane.ts): out, like a
   * batch in flight. Absent in runs without the lane; empty at continue-as-new.
   */
  submitting?: ShardRef[];
  succeeded: number;
  failed: number;
  canceled: number;
  slaMissed: number;
  /** Answers that failed the output check on their last attempt (absent before the first). */
  invalidOutput?: number;
  /** The job's canary (absent without one): while it runs, only its shard goes out. */
  canary?: CanaryState;
  /** Requests sent synchronously so far. */
  syncRequests: number;
  /** Requests sent again so far (each retry counts once). */
  retried: number;
  batchesCreated: number;
  batchesCollected: number;
  apiCalls: Record<string, number>;
  reasons: Record<string, number>;
  tally: CostTally;
  pollIntervalMs?: number;
  cancelRequested: boolean;
  /** When the job's batches were canceled: it waits for them until cancelGraceMs after that. */
  canceledAtMs?: number;
  fatalError?: string;
  /** The window fitted at planning for a job with `window: 'learned'` (kept through continue-as-new). */
  learnedWindowMs?: number;
  /** Its seat in the API key's scheduler. */
  seat: QueueSeatState;
  /** Why the job is not submitting although it has work (waiting for room, preempted, paused). */
  heldReason?: string;
  /** Requests finished at each collect, for the rate and ETA: [atMs, finishedSoFar], last few only. */
  rateSamples: [number, number][];
  /** Jobs with a budget: the ledger of what is reserved and spent (job-budget.ts). */
  budget?: BudgetLedger;
  /** Jobs with a budget: worst-case USD of each original shard at batch prices, from the plan. */
  shardWorstUsd?: number[];
  /** Its registration with the account's poller (absent: runs from before the account poll, or not asked yet). */
  accountPoll?: AccountPollState;
}

export function initialJobState(nowMs: number, requestCount: number, priority: number): JobState {
  return {
    phase: 'planning',
    startedAtMs: nowMs,
    run: 1,
    requestCount,
    shardSizes: [],
    nextShard: 0,
    queued: [],
    pendingRetryBatchIds: [],
    pendingRetryRequests: 0,
    retryRound: 0,
    inFlight: [],
    syncInFlight: [],
    succeeded: 0,
    failed: 0,
    canceled: 0,
    slaMissed: 0,
    syncRequests: 0,
    retried: 0,
    batchesCreated: 0,
    batchesCollected: 0,
    apiCalls: {},
    reasons: {},
    tally: emptyTally(),
    cancelRequested: false,
    seat: initialSeat(priority),
    rateSamples: [],
  };
}

/** Shards being created, in runs with the submit lane (none otherwise). */
export function submittingOf(s: JobState): readonly ShardRef[] {
  return s.submitting ?? [];
}

/** Something is out: a batch in flight, a create under way, or a synchronous sub-batch. */
export function anythingOut(s: JobState): boolean {
  return s.inFlight.length > 0 || submittingOf(s).length > 0 || s.syncInFlight.length > 0;
}

export function finishedRequests(s: JobState): number {
  return requestsDone(s);
}

export function slaViewOf(s: JobState, p: SlaPolicy, nowMs: number): SlaView | undefined {
  if (p.deadlineMs === undefined) return undefined;
  return {
    deadline: new Date(p.deadlineMs).toISOString(),
    latestBatchSubmission: new Date(latestBatchSubmissionMs({ deadlineMs: p.deadlineMs, windowMs: p.windowMs, marginMs: p.marginMs })).toISOString(),
    windowMs: p.windowMs,
    atRisk: slaAtRisk(nowMs, s.requestCount - finishedRequests(s), p),
    routeNow: routeFor(nowMs, s.requestCount, p),
    syncRequests: s.syncRequests,
  };
}

export function progressOf(s: JobState, nowMs: number, sla?: SlaPolicy): JobProgress {
  const inFlight = s.inFlight.reduce((n, b) => n + b.requests, 0) + submittingOf(s).reduce((n, b) => n + b.requests, 0);
  const queuedRetries = s.queued.reduce((n, r) => n + r.requests, 0);
  const notSubmitted = s.shardSizes.slice(s.nextShard).reduce((a, b) => a + b, 0);
  const done = finishedRequests(s);
  const rate = ratePerMs(s);
  const remaining = s.requestCount - done;
  const canaryRuns = s.canary?.state === 'running' && s.phase === 'running';
  return {
    phase: s.heldReason && s.phase === 'running' ? 'held' : canaryRuns ? 'canary' : s.phase,
    heldReason: s.heldReason,
    priority: s.seat.priority,
    requests: {
      total: s.requestCount,
      succeeded: s.succeeded,
      failed: s.failed,
      canceled: s.canceled,
      slaMissed: s.slaMissed,
      ...(s.invalidOutput !== undefined && { invalidOutput: s.invalidOutput }),
      inFlight,
      inSync: s.syncInFlight.reduce((n, r) => n + r.requests, 0),
      waitingToRetry: s.pendingRetryRequests + queuedRetries,
      notYetSubmitted: s.phase === 'planning' ? s.requestCount : notSubmitted,
    },
    batches: {
      created: s.batchesCreated,
      inFlight: s.inFlight.length,
      collected: s.batchesCollected,
      queuedRetryShards: s.queued.length,
    },
    sla: sla ? slaViewOf(s, sla, nowMs) : undefined,
    ...(s.canary && { canary: canaryReport(s.canary) }),
    retried: s.retried,
    reasons: s.reasons,
    tokens: { input: s.tally.inputTokens, output: s.tally.outputTokens },
    costUsd: s.tally.usd,
    syncEquivalentUsd: s.tally.syncEquivalentUsd,
    budget: budgetViewOf(s),
    requestsPerMinute: Math.round(rate * 60_000),
    etaMs: rate > 0 && remaining > 0 ? Math.round(remaining / rate) : undefined,
    run: s.run,
    elapsedMs: nowMs - s.startedAtMs,
    error: s.fatalError,
  };
}

export function recordRateSample(s: JobState, nowMs: number) {
  s.rateSamples.push([nowMs, finishedRequests(s)]);
  if (s.rateSamples.length > 10) s.rateSamples.shift();
}

function ratePerMs(s: JobState): number {
  const first = s.rateSamples[0];
  const last = s.rateSamples[s.rateSamples.length - 1];
  if (!first || !last || last[0] <= first[0]) return 0;
  return (last[1] - first[1]) / (last[0] - first[0]);
}

/** The short markdown table shown as the workflow's current details in the Web UI. */
export function detailsMarkdown(p: JobProgress, nextAction: string): string {
  const r = p.requests;
  return [
    `| | |`,
    `|---|---|`,
    `| phase | ${p.phase}${p.heldReason ? ` (${p.heldReason})` : ''}, priority ${p.priority} |`,
    `| done | ${requestsDone(r)} / ${r.total} (${r.succeeded} ok, ${r.failed} failed${r.invalidOutput ? `, ${r.invalidOutput} invalid_output` : ''}${r.slaMissed ? `, ${r.slaMissed} sla_missed` : ''}) |`,
    ...(p.canary ? [`| canary | ${canaryText(p.canary)} |`] : []),
    `| in flight | ${r.inFlight} requests in ${p.batches.inFlight} batches${r.inSync ? `, ${r.inSync} sync` : ''} |`,
    `| waiting | ${r.notYetSubmitted} not yet sent, ${r.waitingToRetry} to retry |`,
    `| cost | USD ${p.costUsd.toFixed(4)} (the synchronous API: USD ${p.syncEquivalentUsd.toFixed(4)}) |`,
    ...(p.budget
      ? [`| budget | USD ${p.budget.limitUsd.toFixed(4)}: ${p.budget.spentUsd.toFixed(4)} spent, ${p.budget.reservedUsd.toFixed(4)} reserved |`]
      : []),
    ...(p.sla
      ? [
          `| deadline | ${p.sla.deadline} (last batch by ${p.sla.latestBatchSubmission})${p.sla.atRisk ? ' **at risk**' : ''} |`,
        ]
      : []),
    `| ETA | ${p.etaMs === undefined ? '—' : formatDuration(p.etaMs)} |`,
    `| next | ${nextAction} |`,
  ].join('\n');
}
