/**
 * Where a sub-batch goes under a job's SLA policy: a batch while the window rule trusts it, else the synchronous
 * API (or, without fallback, nowhere: sla_missed). Also which batches in flight are stragglers to cancel.
 */
import { z } from 'zod';
import { DurationSchema } from './duration';
import { LearnedWindowOptionsSchema } from './latency-model';
import { batchTrusted, latestBatchSubmissionMs, MARGIN_MS, WINDOW_MS } from './sla';

export const SlaPolicySchema = z.strictObject({
  /** When all results must be in (epoch ms); none = no deadline, everything may go by batch. */
  deadlineMs: z.number().int().positive().optional(),
  /** The batch processing window W (24 h by the API; shorter in tests). With `window: 'learned'`, the cap and fallback. */
  windowMs: DurationSchema.default(WINDOW_MS),
  /**
   * fixed: the rule plans with windowMs. learned: with a quantile of the account's own batch latencies, fitted when
   * the job is planned (src/domain/latency-model.ts); windowMs when the records are thin or stale.
   */
  window: z.enum(['fixed', 'learned']).default('fixed'),
  /** How the learned window is fitted (used only with `window: 'learned'`). */
  learn: LearnedWindowOptionsSchema.optional(),
  /** Margin M kept after the window. */
  marginMs: DurationSchema.default(MARGIN_MS),
  /** Past the window rule, send requests synchronously (true) or report them sla_missed (false). */
  syncFallback: z.boolean().default(true),
  /** auto: batch unless the job is tiny or the deadline says otherwise; batch: never sync; sync: never batch. */
  mode: z.enum(['auto', 'batch', 'sync']).default('auto'),
  /** Jobs of at most this many requests go straight to the synchronous API in auto mode. */
  syncThreshold: z.number().int().min(0).default(1),
  /** Synchronous calls in flight at once (per sub-batch). */
  syncConcurrency: z.number().int().min(1).max(64).default(8),
  /** Sub-batches sent synchronously at once (each with syncConcurrency calls in flight). */
  maxSyncShardsInFlight: z.number().int().min(1).max(64).default(2),
  /** What one synchronous call is expected to take, retries included: the straggler rule plans with it. */
  syncRequestMs: DurationSchema.default(60_000),
  /**
   * Time kept before the deadline, on top of the synchronous calls, for canceling a straggler, collecting what it
   * finished and writing the results. Default 0 (the calls dominate); compressed-time runs, where these steps take
   * hours of nominal time, need more.
   */
  stragglerLeadMs: DurationSchema.default(0),
});
export type SlaPolicyInput = z.input<typeof SlaPolicySchema>;
export type SlaPolicy = z.output<typeof SlaPolicySchema>;

export type Route = 'batch' | 'sync' | 'sla_missed';

/** The policy a job runs with once its learned window is known (the fixed policy until then, or when not learned). */
export function withLearnedWindow(p: SlaPolicy, learnedWindowMs: number | undefined): SlaPolicy {
  return p.window === 'learned' && learnedWindowMs !== undefined ? { ...p, windowMs: learnedWindowMs } : p;
}

export function routeFor(nowMs: number, jobRequests: number, p: SlaPolicy): Route {
  if (p.mode === 'sync') return 'sync';
  if (p.mode === 'auto' && jobRequests <= p.syncThreshold) return 'sync';
  if (p.deadlineMs === undefined || p.mode === 'batch') return 'batch';
  if (batchTrusted(nowMs, { deadlineMs: p.deadlineMs, windowMs: p.windowMs, marginMs: p.marginMs })) return 'batch';
  return p.syncFallback ? 'sync' : 'sla_missed';
}

/** The time `requests` synchronous calls take at the policy's concurrency. */
export function expectedSyncMs(requests: number, p: SlaPolicy): number {
  return Math.ceil(requests / p.syncConcurrency) * p.syncRequestMs;
}

/**
 * The time to redo all of these batches synchronously: maxSyncShardsInFlight of them at a time, largest first.
 * A wrong learned window can leave every batch straggling at once; this is the time the safety net then needs.
 */
export function expectedSyncAllMs(batchSizes: readonly number[], p: SlaPolicy): number {
  const sizes = [...batchSizes].sort((a, b) => b - a);
  let totalMs = 0;
  for (let i = 0; i < sizes.length; i += p.maxSyncShardsInFlight) totalMs += expectedSyncMs(sizes[i]!, p);
  return totalMs;
}

/**
 * A batch still in flight when only the time to redo its requests synchronously is left: cancel it and finish
 * its unfinished requests synchronously. Never in batch-only mode or without fallback (nothing to switch to).
 * With a learned window the time left must cover all batches in flight (`inFlightSizes`, this one included), so
 * that a model that was wrong for every batch still leaves room to finish them all synchronously.
 */
export function isStraggler(nowMs: number, batchRequests: number, p: SlaPolicy, inFlightSizes?: readonly number[]): boolean {
  if (p.deadlineMs === undefined || p.mode !== 'auto' || !p.syncFallback) return false;
  return nowMs >= stragglerCutoffMs(p.deadlineMs, batchRequests, p, inFlightSizes);
}

function stragglerCutoffMs(deadlineMs: number, batchRequests: number, p: SlaPolicy, inFlightSizes?: readonly number[]): number {
  // `?? 0`: options recorded before stragglerLeadMs existed carry none.
  const leadMs = p.stragglerLeadMs ?? 0;
  if (p.window === 'learned' && inFlightSizes !== undefined) return deadlineMs - leadMs - expectedSyncAllMs(inFlightSizes, p);
  return deadlineMs - leadMs - expectedSyncMs(batchRequests, p);
}

/** When the next SLA decision falls due after `nowMs` (latest batch submission, or a straggler cutoff). */
export function nextSlaEventMs(nowMs: number, inFlightSizes: readonly number[], p: SlaPolicy): number | undefined {
  if (p.deadlineMs === undefined) return undefined;
  const events = [latestBatchSubmissionMs({ deadlineMs: p.deadlineMs, windowMs: p.windowMs, marginMs: p.marginMs })];
  if (p.mode === 'auto' && p.syncFallback) {
    for (const size of inFlightSizes) events.push(stragglerCutoffMs(p.deadlineMs, size, p, p.window === 'learned' ? inFlightSizes : undefined));
  }
  const future = events.filter((t) => t > nowMs);
  return future.length ? Math.min(...future) : undefined;
}

/** The SLA is at risk once batches can no longer be trusted and work is still open. */
export function slaAtRisk(nowMs: number, openRequests: number, p: SlaPolicy): boolean {
  if (p.deadlineMs === undefined || openRequests === 0) return false;
  return nowMs >= latestBatchSubmissionMs({ deadlineMs: p.deadlineMs, windowMs: p.windowMs, marginMs: p.marginMs });
}
