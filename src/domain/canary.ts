/**
 * The canary: the first N requests of a job go alone as one sub-batch, and the rest wait for its verdict. If more
 * than `maxFailurePercent` of it failed (errored, expired, or failed the output check on its first try), the job
 * stops before spending more. Pure: the collect activity applies the verdict to the canary's own requests (so
 * their failures are reported, not retried), the workflow applies it to the rest of the job.
 */
import { z } from 'zod';
import { MAX_REQUESTS_PER_BATCH } from './limits';

/** Requests in a canary given as a bare `--canary`. */
export const DEFAULT_CANARY_REQUESTS = 20;
/** Share of the canary (percent) that may fail before the job stops. */
export const DEFAULT_CANARY_MAX_FAILURE_PERCENT = 10;

export const CanaryOptionsSchema = z.strictObject({
  /** Requests in the canary sub-batch: the job's first N, in input order. */
  requests: z.number().int().min(1).max(MAX_REQUESTS_PER_BATCH),
  /** The job stops when more than this percentage of the canary failed (0: any failure stops it). */
  maxFailurePercent: z.number().min(0).max(100).default(DEFAULT_CANARY_MAX_FAILURE_PERCENT),
});
export type CanaryOptions = z.output<typeof CanaryOptionsSchema>;

/** The most failures a canary of `requests` may have and still let the job go on. */
export function canaryFailuresAllowed(requests: number, maxFailurePercent: number): number {
  return Math.floor((requests * maxFailurePercent) / 100 + 1e-9);
}

/** True when the canary failed: more than maxFailurePercent of its requests did not succeed with a valid answer. */
export function canaryStops(failures: number, requests: number, maxFailurePercent: number): boolean {
  return failures > canaryFailuresAllowed(requests, maxFailurePercent);
}

/** What a job's summary and progress say about its canary. */
export interface CanaryReport {
  requests: number;
  failed: number;
  /** The most failures that still let the job go on. */
  allowed: number;
  state: 'running' | 'passed' | 'stopped';
}

/** The canary in the job's state: its report and the share of failures it allows. */
export interface CanaryState extends CanaryReport {
  maxFailurePercent: number;
}

/** The canary as summaries and progress show it (without its options). */
export function canaryReport(c: CanaryState): CanaryReport {
  return { requests: c.requests, failed: c.failed, allowed: c.allowed, state: c.state };
}

/** The line `sluice run` and `sluice status` print for a canary. */
export function canaryText(c: CanaryReport): string {
  const failed = `${c.failed} of ${c.requests} failed (${c.allowed} allowed)`;
  if (c.state === 'running') return `running: the first ${c.requests} requests go alone, the rest wait`;
  return c.state === 'stopped' ? `stopped the job: ${failed}; nothing else was sent` : `passed: ${failed}`;
}
