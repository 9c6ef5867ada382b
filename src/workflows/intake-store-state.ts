/**
 * The store-backed intake's state: summaries of buffer chunks (the ids and bodies are in the store), the sub-batch
 * jobs in flight, counters, and a per-second rate. Its size does not grow with the buffer, so the continue-as-new
 * input stays small at any depth up to maxBuffered.
 */
import type { ChunkRef } from '../contracts/activities';
import type { IntakeCounters, IntakeStatus } from '../contracts/messages';
import { TIERS, type IntakeOptions, type Tier } from '../domain/intake';
import { nextCutAtMs, tierWaits, type CutLimits } from './intake-decisions';

export interface StoreIntakeJob {
  jobId: string;
  tier: Tier;
  requests: number;
  startedAtMs: number;
  /** When the intake last heard of it (started, or described without an end): the fallback check counts from it. */
  lastHeardMs: number;
  notifyKey?: string;
}

export interface StoreIntakeState {
  /** Marks the store-backed intake's state; intakes started before it carry the legacy state. */
  storeBacked: true;
  name: string;
  run: number;
  cuts: number;
  /** Sequence of buffer chunk keys in this incarnation. */
  chunkSeq: number;
  chunks: ChunkRef[];
  jobs: StoreIntakeJob[];
  /** Jobs that said they ended and are not yet counted (kept through continue-as-new). */
  ended: string[];
  counters: IntakeCounters;
  /** Requests accepted per second over the last minute: [epoch second, count]. */
  rate: [number, number][];
  /** Chunks done with (cut or merged) and not yet listed for the retention sweep, and since when (absent before it). */
  spent?: string[];
  spentSinceMs?: number;
  /** Lists may be past retention: a bounded sweep call is due at the next turn (patch intake-bounded-sweep). */
  sweepDue?: true;
  /**
   * A flush answered at a continue-as-new before all its cuts were made (every sub-batch slot taken): the next run
   * carries on cutting (patch intake-handover).
   */
  flushing?: true;
  /**
   * Handed over early (patch intake-early-handover): the previous run left ended jobs uncounted and due cuts unmade,
   * so the next run turns at once instead of waiting for its next timer.
   */
  turnNow?: true;
  /** Sub-batches of batchSize in the jobs cut so far, all tiers and standard/bulk (patch intake-cut-many). */
  subBatches?: number;
  coalescedSubBatches?: number;
}

export function initialStoreIntakeState(name: string): StoreIntakeState {
  return {
    storeBacked: true,
    name,
    run: 1,
    cuts: 0,
    chunkSeq: 0,
    chunks: [],
    jobs: [],
    ended: [],
    counters: {
      enqueued: 0,
      duplicates: 0,
      refusedFull: 0,
      cutRequests: 0,
      coalescedCuts: 0,
      coalescedRequests: 0,
      succeeded: 0,
      failed: 0,
      other: 0,
      costUsd: 0,
    },
    rate: [],
  };
}

/** Adds `count` accepted requests to the rate at `nowMs`, forgetting seconds older than a minute. */
export function countRate(rate: [number, number][], nowMs: number, count: number): [number, number][] {
  const second = Math.floor(nowMs / 1_000);
  const kept = rate.filter(([s]) => s > second - 60);
  const last = kept[kept.length - 1];
  if (last && last[0] === second) last[1] += count;
  else kept.push([second, count]);
  return kept;
}

/** `many`: the cut limits when the intake cuts many sub-batches into one job (patch intake-cut-many). */
export function storeIntakeStatus(s: StoreIntakeState, o: IntakeOptions, nowMs: number, many?: CutLimits): IntakeStatus {
  const depthByTier = Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<Tier, number>;
  for (const c of s.chunks) depthByTier[c.tier] += c.count - c.taken;
  const waiting = s.chunks.filter((c) => c.count > c.taken);
  const oldest = Math.min(...waiting.map((c) => c.enqueuedAtMs));
  const nextCut = many
    ? Math.min(...TIERS.map((t) => nextCutAtMs(waiting, t, many) ?? Infinity))
    : Math.min(...waiting.map((c) => c.cutByMs));
  const second = Math.floor(nowMs / 1_000);
  return {
    name: s.name,
    depthByTier,
    oldestWaitMs: Number.isFinite(oldest) ? nowMs - oldest : 0,
    nextCutInMs: Number.isFinite(nextCut) ? Math.max(0, nextCut - nowMs) : undefined,
    jobsInFlight: s.jobs.length,
    requestsInFlight: s.jobs.reduce((n, j) => n + j.requests, 0),
    // Per sub-batch: a cut of many sub-batches is not "fuller" than one.
    fillRate: fill(s, o.batchSize),
    requestsPerMinute: s.rate.filter(([sec]) => sec > second - 60).reduce((n, [, c]) => n + c, 0),
    costPerRequestUsd: s.counters.succeeded ? s.counters.costUsd / s.counters.succeeded : 0,
    counters: s.counters,
    cuts: s.cuts,
    run: s.run,
    waits: tierWaits(s.chunks, o, many),
    batchSize: o.batchSize,
    ...(s.subBatches !== undefined ? { subBatches: s.subBatches } : {}),
    ...(many ? { maxCutRequests: many.maxCutRequests, cutGatherMs: many.cutGatherMs } : {}),
    maxJobsInFlight: o.maxJobsInFlight,
  };
}

function fill(s: StoreIntakeState, batchSize: number): number {
  const slots = s.coalescedSubBatches ?? s.counters.coalescedCuts;
  return slots ? s.counters.coalescedRequests / (slots * batchSize) : 0;
}
