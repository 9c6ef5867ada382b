/** What a chaos run does, with the defaults of the full run (`npm run chaos`). */
import type { JobOptionsInput } from '../../src/domain/job';

export interface ChaosOptions {
  /** Requests in each job (default 10,000). */
  requests: number;
  /** Jobs of the same file run at once: equal sub-batch sizes, the same custom_ids (default 1). */
  jobs: number;
  /** SIGKILLs of the worker process, each followed by a new worker (default 5). */
  workerKills: number;
  /** Restarts of the Temporal dev server (default 2). */
  serverRestarts: number;
  /** Seeds the emulator (fates, faults, latencies) and the moments of kills and restarts (default 1). */
  seed: number;
  /**
   * 'anytime': kill and restart at the drawn moment, even with activities running (they then come back only
   * after their start-to-close or heartbeat timeout). 'between-activities': from the drawn moment, wait for
   * one where no activity and no workflow task is pending (fast: what the short test variant uses).
   */
  chaosTiming: 'anytime' | 'between-activities';
  /** Emulator faults (src/emulator/config.ts `faults`); default: CHAOS_FAULTS. */
  faults: unknown;
  /** Job options (sub-batch size, attempts, polling). */
  job: JobOptionsInput;
  /** Give up after this long (default 20 min). */
  timeoutMs: number;
  /** Call the run stuck when no job moved for this long (default 5 min: longer than any activity timeout and its retries). */
  stallMs: number;
  /** Keep the working directory (databases, store, logs) after the run. */
  keep: boolean;
  log: (line: string) => void;
}

/** Faults on at modest rates, on every endpoint. */
export const CHAOS_FAULTS = {
  rateLimit: { rate: 0.03, retryAfterSeconds: 0.2 },
  apiError: { rate: 0.02 },
  overloaded: { rate: 0.02 },
  timeout: { rate: 0.01 },
  slow: { rate: 0.02, delayMs: 1_500 },
  // The create is done, its answer lost: the submission must reconcile instead of paying twice.
  connectionReset: { rate: 0.005, phase: 'after' },
  notFoundAfterCreate: { rate: 0.5, withinMs: 1_500, endpoints: ['retrieve', 'results'] },
  resultsCut: { rate: 0.05, afterLines: 40 },
  resultErrors: {
    api_error: 0.01,
    overloaded_error: 0.01,
    rate_limit_error: 0.005,
    timeout_error: 0.005,
    invalid_request_error: 0.003,
  },
  expiredRate: 0.005,
};

/** real ms = nominal ms × TIME_SCALE; batches take 0.5–2 s real, and a batch with an expired request 4 s. */
export const TIME_SCALE = 0.001;
export const LATENCY = { batch: { kind: 'uniform', minMs: 500_000, maxMs: 2_000_000 }, spread: 0.9 };
export const WINDOW_MS = 4_000_000;

export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  requests: 10_000,
  jobs: 1,
  workerKills: 5,
  serverRestarts: 2,
  seed: 1,
  chaosTiming: 'anytime',
  faults: CHAOS_FAULTS,
  job: {
    batchSize: 100,
    maxAttempts: 4,
    maxBatchesInFlight: 30,
    poll: { initialMs: 250, growth: 1.5, capMs: 1_000 },
    heartbeatTimeoutMs: 10_000,
  },
  timeoutMs: 20 * 60_000,
  stallMs: 5 * 60_000,
  keep: false,
  log: (line) => console.error(line),
};
