/**
 * The intake workflow's state, kept small: ids and times of the buffered requests (their bodies are in the
 * store), the sub-batches (child jobs) in flight, a bounded memory of finished ids for de-duplication, counters.
 */
import { formatDuration } from '../domain/duration';
import { nextCutMs, TIERS, type Buffered, type IntakeOptions, type Tier } from '../domain/intake';
import type { IntakeCounters, IntakeStatus, TierWait } from '../contracts/messages';

export interface BufferedRequest extends Buffered {
  /** Store key of the segment (one enqueue call) holding its body. */
  segment: string;
  notifyWorkflowId?: string;
}

export interface UrgentRequest {
  customId: string;
  segment: string;
  enqueuedAtMs: number;
  notifyWorkflowId?: string;
}

export interface IntakeJob {
  jobId: string;
  tier: Tier;
  requests: number;
  startedAtMs: number;
  /** Requests of this sub-batch whose owners wait for a completion signal: [custom_id, workflow id]. */
  notify: [string, string][];
}

export interface IntakeState {
  name: string;
  run: number;
  cuts: number;
  buffer: BufferedRequest[];
  urgent: UrgentRequest[];
  jobs: IntakeJob[];
  /** custom_id → the job that has it, for finished requests (oldest first, bounded by rememberDone). */
  done: [string, string][];
  /** custom_id → job for requests in flight. */
  inFlight: [string, string][];
  counters: IntakeCounters;
  /** Enqueue times of the last requests, for the rate. */
  recentEnqueues: number[];
}

export function initialIntakeState(name: string): IntakeState {
  return {
    name,
    run: 1,
    cuts: 0,
    buffer: [],
    urgent: [],
    jobs: [],
    done: [],
    inFlight: [],
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
    recentEnqueues: [],
  };
}

export function intakeStatusOf(s: IntakeState, o: IntakeOptions, nowMs: number): IntakeStatus {
  const depthByTier = Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<Tier, number>;
  for (const b of s.buffer) depthByTier[b.tier]++;
  depthByTier.urgent = s.urgent.length;
  const oldest = Math.min(...s.buffer.map((b) => b.enqueuedAtMs), ...s.urgent.map((u) => u.enqueuedAtMs));
  const next = nextCutMs(s.buffer);
  const window = s.recentEnqueues.filter((t) => t > nowMs - 60_000);
  return {
    name: s.name,
    depthByTier,
    oldestWaitMs: Number.isFinite(oldest) ? nowMs - oldest : 0,
    nextCutInMs: next === undefined ? undefined : Math.max(0, next - nowMs),
    jobsInFlight: s.jobs.length,
    requestsInFlight: s.jobs.reduce((n, j) => n + j.requests, 0),
    fillRate: s.counters.coalescedCuts ? s.counters.coalescedRequests / (s.counters.coalescedCuts * o.batchSize) : 0,
    requestsPerMinute: window.length,
    costPerRequestUsd: s.counters.succeeded ? s.counters.costUsd / s.counters.succeeded : 0,
    counters: s.counters,
    cuts: s.cuts,
    run: s.run,
    waits: legacyWaits(s, o),
    batchSize: o.batchSize,
    maxJobsInFlight: o.maxJobsInFlight,
  };
}

function legacyWaits(s: IntakeState, o: IntakeOptions): TierWait[] {
  const waits: TierWait[] = [];
  if (s.urgent.length) {
    const at = Math.min(...s.urgent.map((u) => u.enqueuedAtMs));
    waits.push({ tier: 'urgent', waiting: s.urgent.length, cutAtMs: at, latestSafeMs: at });
  }
  for (const tier of ['standard', 'bulk'] as const) {
    const mine = s.buffer.filter((b) => b.tier === tier);
    if (!mine.length) continue;
    const cutAtMs = Math.min(...mine.map((b) => b.cutByMs));
    waits.push({ tier, waiting: mine.length, cutAtMs, latestSafeMs: cutAtMs + o.cutLeadMs });
  }
  return waits;
}

export function intakeDetails(st: IntakeStatus): string {
  const d = st.depthByTier;
  return [
    '| | |',
    '|---|---|',
    `| waiting | ${d.bulk} bulk, ${d.standard} standard, ${d.urgent} urgent |`,
    `| oldest waits | ${formatDuration(st.oldestWaitMs)} |`,
    `| next cut | ${st.nextCutInMs === undefined ? '—' : `in ${formatDuration(st.nextCutInMs)}`} |`,
    `| in flight | ${st.requestsInFlight} requests in ${st.jobsInFlight} sub-batches |`,
    `| done | ${st.counters.succeeded} ok, ${st.counters.failed} failed |`,
    `| fill rate | ${(st.fillRate * 100).toFixed(0)} % |`,
    `| rate | ${st.requestsPerMinute} requests/min |`,
    `| cost per request | USD ${st.costPerRequestUsd.toFixed(5)} |`,
  ].join('\n');
}
