/**
 * The job's canary, as pure functions over its state: while it runs only the first shard (the canary's N requests)
 * may go out; when that shard is done, the verdict either lets the job go on or stops it before anything else is
 * sent. The collect activity judges a batch canary itself (its failures must be final when it stops the job); a
 * canary sent synchronously is judged here from the job's counts, which then hold only the canary's requests.
 */
import { canaryFailuresAllowed, canaryStops, type CanaryOptions, type CanaryState } from '../domain/canary';
import { originalShardKey, type JobOptions } from '../domain/job';
import type { CollectInput, CollectResult } from '../contracts/activities';
import { anythingOut, type JobState } from './job-state';

/** The canary shard is always the first original shard: the plan cuts it at N requests. */
export const CANARY_SHARD = originalShardKey(0);

export function initialCanary(o: CanaryOptions): CanaryState {
  return {
    requests: o.requests,
    failed: 0,
    allowed: canaryFailuresAllowed(o.requests, o.maxFailurePercent),
    maxFailurePercent: o.maxFailurePercent,
    state: 'running',
  };
}

export function canaryRunning(s: JobState): boolean {
  return s.canary?.state === 'running';
}

/**
 * The options the job submits with while its canary runs: room for the canary shard alone, then for nothing, so
 * the rest waits (and the job asks the shared queue for no room it cannot use).
 */
export function optionsWhileCanary(s: JobState, opts: JobOptions): JobOptions {
  if (!canaryRunning(s)) return opts;
  const canarySent = s.nextShard > 0;
  return {
    ...opts,
    maxBatchesInFlight: canarySent ? s.inFlight.length : 1,
    sla: { ...opts.sla, maxSyncShardsInFlight: canarySent ? s.syncInFlight.length : 1 },
  };
}

/** What the collect activity of a batch is told about the canary (only the canary shard's, while it runs). */
export function canaryCollectInput(s: JobState, shardKey: string): Pick<CollectInput, 'canary'> {
  if (!s.canary || !canaryRunning(s) || shardKey !== CANARY_SHARD) return {};
  return { canary: { maxFailurePercent: s.canary.maxFailurePercent } };
}

/** A collected canary batch: its verdict, as the collect activity judged it. */
export function canaryCollected(s: JobState, r: CollectResult): void {
  if (!s.canary || !canaryRunning(s) || !r.canary) return;
  s.canary = { ...s.canary, requests: r.canary.requests, failed: r.canary.failed, allowed: canaryFailuresAllowed(r.canary.requests, s.canary.maxFailurePercent), state: r.canary.stopped ? 'stopped' : 'passed' };
}

/**
 * The canary's verdict once its shard is done and nothing is out, or undefined while it runs (or when it was
 * judged already). A canary collected from a batch was judged by collect (canaryCollected); one sent
 * synchronously, or settled without being sent (sla_missed), is judged from the job's counts.
 */
export function canaryVerdict(s: JobState): CanaryState | undefined {
  const c = s.canary;
  if (!c || c.state !== 'running') return undefined;
  if (s.nextShard === 0 || anythingOut(s)) return undefined;
  const requests = s.shardSizes[0] ?? c.requests;
  const failed = s.failed + (s.invalidOutput ?? 0) + s.pendingRetryRequests;
  const allowed = canaryFailuresAllowed(requests, c.maxFailurePercent);
  return { ...c, requests, failed, allowed, state: canaryStops(failed, requests, c.maxFailurePercent) ? 'stopped' : 'passed' };
}

export function canaryStopped(s: JobState): boolean {
  return s.canary?.state === 'stopped';
}
