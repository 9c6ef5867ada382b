// The SLA window rule: a batch is trusted only if it can end, window and margin included, before the deadline.
import { ConfigError } from './errors';
import { formatDuration } from './duration';

/** The API's batch processing window: anything not done in 24 h expires. */
export const WINDOW_MS = 24 * 3_600_000;
/** Default safety margin after the window: time to collect results and retry synchronously. */
export const MARGIN_MS = 2 * 3_600_000;

export interface SlaWindow {
  /** When all results must be in (epoch ms). */
  deadlineMs: number;
  /** Batch processing window W. Default WINDOW_MS. */
  windowMs: number;
  /** Margin M kept after the window. Default MARGIN_MS. */
  marginMs: number;
}

/** A batch submitted at `tMs` can be trusted to meet the deadline: t + W + M ≤ D. */
export function batchTrusted(tMs: number, w: SlaWindow): boolean {
  return tMs + w.windowMs + w.marginMs <= w.deadlineMs;
}

/** The latest time a batch may be submitted: D − W − M. Later work goes synchronous or misses the SLA. */
export function latestBatchSubmissionMs(w: SlaWindow): number {
  return w.deadlineMs - w.windowMs - w.marginMs;
}

/**
 * For recurring work with an SLA: how often to submit, SLA − W − M (30 h − 24 h − 2 h = 4 h).
 * Throws a ConfigError when that is not positive: the SLA is too short for batches.
 */
export function submissionPeriodMs(slaMs: number, windowMs: number = WINDOW_MS, marginMs: number = MARGIN_MS): number {
  const periodMs = slaMs - windowMs - marginMs;
  if (periodMs <= 0) {
    throw new ConfigError(
      'sla',
      `an SLA of ${formatDuration(slaMs)} is too short for batches: it must exceed the batch window (${formatDuration(windowMs)}) ` +
        `plus the margin (${formatDuration(marginMs)}), i.e. ${formatDuration(windowMs + marginMs)}; ` +
        'use the synchronous API, a longer SLA or a smaller margin',
    );
  }
  return periodMs;
}

export interface SlaPlan {
  /** Submit recurring work this often. */
  periodMs: number;
  /** Work submitted now must be submitted as a batch by this time (epoch ms). */
  latestSubmissionMs: number;
  /** now + SLA (epoch ms). */
  deadlineMs: number;
  windowMs: number;
  marginMs: number;
}

/** What `sluice sla 30h` prints: the period and, for work starting now, its deadline and last batch time. */
export function slaPlan(input: { slaMs: number; nowMs: number; windowMs?: number; marginMs?: number }): SlaPlan {
  const windowMs = input.windowMs ?? WINDOW_MS;
  const marginMs = input.marginMs ?? MARGIN_MS;
  const periodMs = submissionPeriodMs(input.slaMs, windowMs, marginMs);
  const deadlineMs = input.nowMs + input.slaMs;
  return {
    periodMs,
    latestSubmissionMs: latestBatchSubmissionMs({ deadlineMs, windowMs, marginMs }),
    deadlineMs,
    windowMs,
    marginMs,
  };
}
