/**
 * The job workflow's decisions, as pure functions over its state: what to submit next and where, when retries
 * are packed, which batches to cancel (stragglers, preemption victims), how long to wait, when to stop, when
 * to continue as new. The workflow (job.ts) only applies them; test/job-decisions.test.ts checks them on states
 * it builds. None of them reads a clock: `nowMs` is always passed in.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { originalShardKey, type JobOptions, type ShardRef } from '../domain/job';
import type { Room } from '../domain/queue';
import { nextPollIntervalMs } from '../domain/poll';
import { isStraggler, nextSlaEventMs, routeFor, withLearnedWindow, type Route, type SlaPolicy } from '../domain/sla-route';
import { anythingOut, finishedRequests, submittingOf, type InFlightBatch, type JobState } from './job-state';
import { seatAllows, type QueueSeatState } from './job-queue';

/** While held with nothing in flight, look again this often even without a message (messages wake sooner). */
export const HELD_RECHECK_MS = 60_000;

/** The shards that would go next, in order (retries first), without taking them. */
export function nextShards(s: JobState, limit: number): ShardRef[] {
  const out = s.queued.slice(0, limit);
  for (let i = s.nextShard; out.length < limit && i < s.shardSizes.length; i++) {
    out.push({ key: originalShardKey(i), requests: s.shardSizes[i]! });
  }
  return out;
}

export function hasWorkLeft(s: JobState): boolean {
  return s.nextShard < s.shardSizes.length || s.queued.length > 0 || s.pendingRetryRequests > 0;
}

/** Every request has its final outcome and no batch is out: the loop ends and the job finalizes. */
export function isFinished(s: JobState): boolean {
  return s.phase !== 'planning' && finishedRequests(s) >= s.requestCount && s.inFlight.length === 0 && submittingOf(s).length === 0;
}

/** A cancel asked for and not yet carried out. */
export function cancelDue(s: JobState): boolean {
  return s.cancelRequested && s.phase === 'running';
}

export interface SubmissionPlan {
  route: Route;
  /** What could go now within the job's own limits. */
  candidates: ShardRef[];
  /** What goes now: the candidates up to the first one the seat has no room for (batches only). */
  picks: ShardRef[];
  /** Some candidates wait for room in the batch queue. */
  blocked: boolean;
}

/** What to submit now, and by which route (batch, sync, or nowhere: sla_missed). */
export function planSubmissions(s: JobState, nowMs: number, opts: JobOptions): SubmissionPlan {
  const sla = opts.sla;
  const route = routeFor(nowMs, s.requestCount, sla);
  const limit =
    route === 'batch'
      ? opts.maxBatchesInFlight - batchesOut(s)
      : route === 'sync'
        ? sla.maxSyncShardsInFlight - s.syncInFlight.length
        : Number.MAX_SAFE_INTEGER;
  const candidates = nextShards(s, Math.max(0, limit));
  const picks: ShardRef[] = [];
  let grant = s.seat.grant;
  for (const shard of candidates) {
    // The batch queue is shared: a batch needs room from the scheduler; sync and sla_missed work does not.
    if (route === 'batch') {
      if (!seatAllows(s.seat, opts.useScheduler, grant, shard)) break;
      if (opts.useScheduler) grant = { requests: grant.requests - shard.requests, batches: grant.batches - 1 };
    }
    picks.push(shard);
  }
  return { route, candidates, picks, blocked: picks.length < candidates.length };
}

/** Batches in flight plus creates under way: what counts against `maxBatchesInFlight` and the room held. */
export function batchesOut(s: JobState): number {
  return s.inFlight.length + submittingOf(s).length;
}

/** What the job asks the scheduler to let it hold: its batches in flight (and being created) plus what it could send next. */
export function roomWanted(s: JobState, opts: JobOptions): { inFlight: Room; next: ShardRef[] } {
  const requests = s.inFlight.reduce((n, b) => n + b.requests, 0) + submittingOf(s).reduce((n, b) => n + b.requests, 0);
  const inFlight = { requests, batches: batchesOut(s) };
  return { inFlight, next: nextShards(s, Math.max(0, opts.maxBatchesInFlight - batchesOut(s))) };
}

/** Poll after this wait: some batch is in flight (creates still under way do not hold the poll back). */
export function pollDue(s: JobState): boolean {
  return s.inFlight.length > 0;
}

/** Why a job with work to send does not send it (shown in the Web UI and by `sluice status`), or undefined. */
export function heldReasonOf(blocked: boolean, seat: QueueSeatState, schedulerEnabled: boolean): string | undefined {
  if (!blocked) return undefined;
  if (seat.paused) return 'paused';
  if (seat.preemptedBy) return `preempted by ${seat.preemptedBy}`;
  return schedulerEnabled ? 'waiting for room in the batch queue' : undefined;
}

/**
 * Retries wait until a full sub-batch of them is ready, or until nothing else is left to send, or until they
 * can no longer go by batch (then every minute counts).
 */
export function retriesDue(s: JobState, nowMs: number, opts: JobOptions): boolean {
  if (s.pendingRetryRequests === 0) return false;
  const nothingElse = s.nextShard >= s.shardSizes.length && s.queued.length === 0;
  const notBatch = routeFor(nowMs, s.requestCount, opts.sla) !== 'batch';
  return s.pendingRetryRequests >= opts.batchSize || nothingElse || notBatch;
}

/** Told to make room (or paused while holding room): the job must give room back now. */
export function mustStepAside(seat: QueueSeatState): boolean {
  const pausedHolding = seat.paused && (seat.grant.requests > 0 || seat.grant.batches > 0);
  return seat.pendingPreempt !== undefined || pausedHolding;
}

/** The youngest batches that free at least `cancelRequests` requests for a more urgent job. */
export function preemptionVictims(inFlight: readonly InFlightBatch[], cancelRequests: number): InFlightBatch[] {
  if (cancelRequests <= 0) return [];
  const youngest = inFlight
    .filter((b) => !b.straggler && !b.preempted)
    .sort((a, b) => b.submittedAtMs - a.submittedAtMs);
  const victims: InFlightBatch[] = [];
  let freed = 0;
  for (const b of youngest) {
    if (freed >= cancelRequests) break;
    victims.push(b);
    freed += b.requests;
  }
  return victims;
}

/** Batches that can no longer meet the deadline: cancel them, their requests finish synchronously. */
export function stragglersToCancel(s: JobState, nowMs: number, opts: JobOptions): InFlightBatch[] {
  if (s.cancelRequested) return [];
  const sizes = s.inFlight.filter((b) => !b.straggler).map((b) => b.requests);
  return s.inFlight.filter((b) => !b.straggler && isStraggler(nowMs, b.requests, opts.sla, sizes));
}

export function cancelGraceOver(s: JobState, nowMs: number, opts: JobOptions): boolean {
  return s.phase === 'canceling' && s.canceledAtMs !== undefined && nowMs >= s.canceledAtMs + opts.cancelGraceMs;
}

export type StopReason = 'nothing-left' | 'cancel-grace-over';

/**
 * After this round's submissions: stop when nothing is out and nothing will be sent, or when a canceled job has
 * waited its grace for its canceled batches (finalize reports their requests as in flight at stop).
 */
export function stopReason(s: JobState, nowMs: number, opts: JobOptions): StopReason | undefined {
  const nothingOut = !anythingOut(s);
  if (nothingOut && !(s.phase === 'running' && hasWorkLeft(s))) return 'nothing-left';
  if (cancelGraceOver(s, nowMs, opts)) return 'cancel-grace-over';
  return undefined;
}

/** The poll interval, shortened so the workflow wakes when the next SLA decision (or the cancel grace) falls due. */
export function pollIntervalMs(s: JobState, nowMs: number, opts: JobOptions): number {
  const intervalMs = nextPollIntervalMs(s.pollIntervalMs, opts.poll);
  if (s.phase === 'canceling' && s.canceledAtMs !== undefined) {
    return Math.max(1, Math.min(intervalMs, s.canceledAtMs + opts.cancelGraceMs - nowMs));
  }
  const sizes = s.inFlight.filter((b) => !b.straggler).map((b) => b.requests);
  const next = nextSlaEventMs(nowMs, sizes, opts.sla);
  return next === undefined ? intervalMs : Math.max(1, Math.min(intervalMs, next - nowMs));
}

export interface WaitPlan {
  /** The poll interval this round (kept as the base of the next one when nothing moved). */
  intervalMs: number;
  /** How long the durable timer waits at most (messages wake it sooner). */
  timeoutMs: number;
  /** Shown on the timer in the Web UI. */
  summary: string;
}

/** How long to wait before the next round, and what for. */
export function planWait(s: JobState, nowMs: number, opts: JobOptions): WaitPlan {
  const intervalMs = pollIntervalMs(s, nowMs, opts);
  const nothingOut = !anythingOut(s);
  const summary = nothingOut
    ? s.heldReason === 'budget'
      ? 'held: the budget allows no more (sluice budget raises it)'
      : 'wait for room in the batch queue'
    : s.inFlight.length
      ? `wait before polling ${s.inFlight.length} batches`
      : submittingOf(s).length
        ? `wait while ${submittingOf(s).length} batches are created`
        : 'wait for synchronous calls';
  return { intervalMs, timeoutMs: nothingOut ? HELD_RECHECK_MS : intervalMs, summary };
}

/** The next poll's interval: back to the start after progress, else grown from this one. */
export function intervalAfterPoll(progressed: boolean, intervalMs: number): number | undefined {
  return progressed ? undefined : intervalMs;
}

/** Continue as new when the server suggests it or the history passes the job's own limit. */
export function continueAsNewDue(
  info: { continueAsNewSuggested: boolean; historyLength: number },
  opts: JobOptions,
): boolean {
  return info.continueAsNewSuggested || info.historyLength > opts.maxHistoryEvents;
}

/** The "next" line of the Web UI details. */
export function nextActionText(s: JobState): string {
  if (s.heldReason) return `wait: ${s.heldReason}`;
  if (s.inFlight.length) return `poll ${s.inFlight.length} batches`;
  if (submittingOf(s).length) return `create ${submittingOf(s).length} batches`;
  return `finish ${s.syncInFlight.length} synchronous sub-batches`;
}

/** How a submission is labeled in the Web UI's activity summary. */
export function submissionLabel(shard: ShardRef, shardCount: number): string {
  return shard.key.startsWith('s') ? `sub-batch ${Number(shard.key.slice(1)) + 1}/${shardCount}` : `retry ${shard.key}`;
}

/** The options the job decides with: for `window: 'learned'`, the fitted window in place of the fixed one. */
export function withLearnedWindowOf(opts: JobOptions, learnedWindowMs: number | undefined): JobOptions {
  const sla = withLearnedWindow(opts.sla, learnedWindowMs);
  return sla === opts.sla ? opts : { ...opts, sla };
}

/** A straggler under a learned window shorter than the fixed one: the model was wrong, go back to the fixed window. */
export function learnedWindowDisproved(sla: SlaPolicy, learnedWindowMs: number | undefined): boolean {
  return sla.window === 'learned' && learnedWindowMs !== undefined && learnedWindowMs < sla.windowMs;
}

/**
 * Why the job must stop and write what it has, for an activity failure it cannot outlive: a fatal API answer (a bad
 * key, a refused batch), or an activity whose attempts are used up or that must never be retried (a missing store
 * blob). Undefined for anything else, which fails the workflow task instead (a bug to fix, then replayed).
 */
export function fatalFailureMessage(err: unknown): string | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.nonRetryable) return cause.message;
  const final: readonly string[] = ['NON_RETRYABLE_FAILURE', 'MAXIMUM_ATTEMPTS_REACHED', 'TIMEOUT'];
  if (err.retryState === undefined || !final.includes(err.retryState)) return undefined;
  return `${err.activityType} gave up (${String(err.retryState).toLowerCase().replace(/_/g, ' ')}): ${cause?.message ?? err.message}`;
}
