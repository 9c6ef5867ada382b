/**
 * A batch window learned from the account's own ended batches (the `timings/` records): the chosen quantile of the
 * time from create to end, with a floor, capped at the fixed window, and the fixed window itself when the records
 * are too few or too old to trust. Pure.
 *
 * Batches canceled before they ended (stragglers, preempted batches) tell only that a batch took AT LEAST until the
 * cancel. Dropping them would make the tail look shorter than it is, so the quantile is read from a Kaplan–Meier
 * estimate that counts them as censored. With no cancels it is the plain empirical quantile.
 */
import { z } from 'zod';
import { DurationSchema } from './duration';
import type { BatchTiming } from './batch-timing';

const DAY_MS = 86_400_000;

export const LearnedWindowOptionsSchema = z.strictObject({
  /** The share of batches that must end within the window (0.99: one batch in a hundred may run longer). */
  quantile: z.number().min(0.5).max(0.9999).default(0.99),
  /** The learned window is never shorter than this (job clock). */
  floorMs: DurationSchema.default(3_600_000),
  /** Fewer usable records than this: the data are thin, use the fixed window. */
  minSamples: z.number().int().min(1).default(100),
  /** Records seen longer ago than this are stale and not used (job clock). */
  maxAgeMs: DurationSchema.default(7 * DAY_MS),
  /** Only the newest this many records count, so the model follows the service as it changes. */
  maxSamples: z.number().int().min(1).default(2_000),
});
export type LearnedWindowOptionsInput = z.input<typeof LearnedWindowOptionsSchema>;
export type LearnedWindowOptions = z.output<typeof LearnedWindowOptionsSchema>;

/** The quantiles every model reports, besides the chosen one. */
export const REPORTED_QUANTILES = [0.5, 0.9, 0.99, 0.995] as const;

export interface LatencyModel {
  /** learned: `windowMs` comes from the records; fallback: it is the fixed window, see `reason`. */
  source: 'learned' | 'fallback';
  /** Why the fixed window is used (or why the learned one was capped), in words. */
  reason?: string;
  /** The window the SLA rule uses (job clock). */
  windowMs: number;
  /** The fixed window it falls back to and never exceeds. */
  fixedWindowMs: number;
  quantile: number;
  floorMs: number;
  /** Records found, and those used (recent enough, newest first, at most maxSamples). */
  records: number;
  samples: number;
  /** Of the samples, batches canceled before they ended (counted as censored). */
  censored: number;
  /** Create-to-end times at the reported quantiles and the chosen one (job clock); null past the data (censored tail). */
  quantiles: { q: number; ms: number | null }[];
  /** When the newest record was seen, and how long ago (job clock). */
  newestSeenAtMs?: number;
  ageMs?: number;
}

export interface FitInput {
  timings: readonly BatchTiming[];
  nowMs: number;
  /** The fixed window W (the API's 24 h, or a test's compressed one): the fallback and the cap. */
  fixedWindowMs: number;
  /** Job-clock ms per API-clock ms: 1 against the real API, the emulator's timeScale against a compressed one. */
  apiTimeScale?: number;
  options?: LearnedWindowOptionsInput;
}

interface Sample {
  ms: number;
  /** false: canceled before it ended, so it took at least `ms`. */
  ended: boolean;
  seenAtMs: number;
}

export function fitLatencyModel(input: FitInput): LatencyModel {
  const o = LearnedWindowOptionsSchema.parse(input.options ?? {});
  const scale = input.apiTimeScale ?? 1;
  const all = input.timings.map((t) => toSample(t, scale)).sort((a, b) => b.seenAtMs - a.seenAtMs);
  const recent = all.filter((s) => input.nowMs - s.seenAtMs <= o.maxAgeMs).slice(0, o.maxSamples);
  const newest = all[0]?.seenAtMs;
  const base = {
    fixedWindowMs: input.fixedWindowMs,
    quantile: o.quantile,
    floorMs: o.floorMs,
    records: all.length,
    samples: recent.length,
    censored: recent.filter((s) => !s.ended).length,
    quantiles: [...new Set([...REPORTED_QUANTILES, o.quantile])]
      .sort((a, b) => a - b)
      .map((q) => ({ q, ms: kaplanMeierQuantile(recent, q) })),
    ...(newest === undefined ? {} : { newestSeenAtMs: newest, ageMs: Math.max(0, input.nowMs - newest) }),
  };
  const fallback = (reason: string): LatencyModel => ({ ...base, source: 'fallback', reason, windowMs: input.fixedWindowMs });

  if (all.length < o.minSamples) return fallback(`thin data: ${all.length} ended batches on record, fewer than ${o.minSamples}`);
  if (recent.length < o.minSamples) {
    return fallback(`stale data: ${recent.length} of ${all.length} records are recent enough, fewer than ${o.minSamples}`);
  }
  const chosen = kaplanMeierQuantile(recent, o.quantile);
  if (chosen === null) return fallback(`too many batches canceled before they ended to bound ${quantileName(o.quantile)}`);
  const windowMs = Math.min(input.fixedWindowMs, Math.max(o.floorMs, Math.ceil(chosen)));
  return {
    ...base,
    source: 'learned',
    windowMs,
    ...(windowMs === input.fixedWindowMs ? { reason: `${quantileName(o.quantile)} reaches the fixed window` } : {}),
  };
}

/** 0.995 → "p99.5". */
export function quantileName(q: number): string {
  return `p${Number((q * 100).toFixed(2))}`;
}

function toSample(t: BatchTiming, scale: number): Sample {
  const ended = t.cancelInitiatedAtMs === undefined;
  const untilMs = ended ? t.endedAtMs : Math.min(t.endedAtMs, t.cancelInitiatedAtMs!);
  return { ms: Math.max(0, untilMs - t.createdAtMs) * scale, ended, seenAtMs: t.seenAtMs ?? t.endedAtMs };
}

/**
 * The smallest time t with F(t) ≥ q, where F = 1 − S and S is the Kaplan–Meier survival estimate; null when the
 * estimate never reaches q (the largest samples are censored) or there are no samples.
 */
export function kaplanMeierQuantile(samples: readonly { ms: number; ended: boolean }[], q: number): number | null {
  // At equal times, ends come before cancels: a batch canceled at t was still running at t.
  const sorted = [...samples].sort((a, b) => a.ms - b.ms || Number(b.ended) - Number(a.ended));
  let atRisk = sorted.length;
  let survival = 1;
  for (let i = 0; i < sorted.length; ) {
    const t = sorted[i]!.ms;
    let ends = 0;
    let leaving = 0;
    while (i < sorted.length && sorted[i]!.ms === t) {
      if (sorted[i]!.ended) ends++;
      leaving++;
      i++;
    }
    if (ends > 0) survival *= 1 - ends / atRisk;
    // A tiny tolerance: 1 − 0.99 is not exactly 0.01 in floating point.
    if (ends > 0 && 1 - survival >= q - 1e-12) return t;
    atRisk -= leaving;
  }
  return null;
}
