/**
 * What `npm run bench:sla` simulates: latency profiles of the batch service, and the strategies compared on them.
 * Durations here are nominal (what the real API would take); the bench compresses them by its time scale.
 */
import type { EmulatorOptions } from '../src/emulator';
import type { SlaPolicyInput } from '../src/domain/sla-route';

const MIN = 60_000;
const H = 3_600_000;

export interface Profile {
  name: 'default' | 'stress';
  description: string;
  latency: NonNullable<EmulatorOptions['latency']>;
  /** Share of requests the service never reaches: they expire at 24 h and hold their batch open until then. */
  expiredRate: number;
  /** Each night's work arrives this long after its SLA clock started (the submission is late in its period). */
  lateMs: number;
}

export const PROFILES: Record<Profile['name'], Profile> = {
  default: {
    name: 'default',
    description: 'median 5 min, log-normal σ 1.8 (~92 % of batches within 1 h), 0.002 % of requests expire',
    latency: { batch: { kind: 'lognormal', medianMs: 5 * MIN, sigma: 1.8, minMs: 30_000, maxMs: 48 * H }, spread: 0.9 },
    expiredRate: 0.00002,
    lateMs: 0,
  },
  stress: {
    name: 'stress',
    description: 'median 2 h, log-normal σ 1.5 (~5 % of batches past 24 h), 0.2 % of requests expire (~18 % of 100-request batches hold one), work arrives 2 h late',
    latency: { batch: { kind: 'lognormal', medianMs: 2 * H, sigma: 1.5, minMs: 60_000, maxMs: 48 * H }, spread: 0.9 },
    expiredRate: 0.002,
    lateMs: 2 * H,
  },
};

export type Strategy = 'sluice, 24 h window' | 'sluice, learned window' | 'all-sync' | 'batch-only';
export const STRATEGIES: Strategy[] = ['sluice, 24 h window', 'sluice, learned window', 'all-sync', 'batch-only'];

/** The learned window's settings, nominal: p99, at least 1 h, from at least 100 batches of the last 7 days. */
export const LEARN = { quantile: 0.99, floorMs: 1 * H, minSamples: 100 };

/** Each strategy's SLA policy, with every duration compressed by `scale`. */
export function policyFor(strategy: Strategy, deadlineMs: number, scale: number): SlaPolicyInput {
  const scaled = { windowMs: 24 * H * scale, marginMs: 2 * H * scale, syncRequestMs: Math.max(1, MIN * scale) };
  // Canceling a straggler, collecting and finalizing take about a second of real time here: an hour nominal.
  const sync = { syncConcurrency: 16, maxSyncShardsInFlight: 4, stragglerLeadMs: Math.round(H * scale) };
  switch (strategy) {
    case 'all-sync':
      return { ...scaled, ...sync, mode: 'sync' };
    case 'batch-only':
      return { ...scaled, mode: 'batch' };
    case 'sluice, 24 h window':
      return { ...scaled, ...sync, deadlineMs, mode: 'auto' };
    case 'sluice, learned window':
      return { ...scaled, ...sync, deadlineMs, mode: 'auto', window: 'learned', learn: { ...LEARN, floorMs: Math.round(LEARN.floorMs * scale) } };
  }
}
