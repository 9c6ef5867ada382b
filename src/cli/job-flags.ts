/**
 * Job options from `sluice run` flags, checked before anything connects: a bad value is reported with the flag
 * the user typed (`--batch-size`), not the option's name inside Sluice (`batchSize`), and without first waiting
 * for a Temporal server that a typo never needed.
 */
import { ConfigError, parseConfig } from '../domain/errors';
import { JobOptionsSchema, type JobOptionsInput } from '../domain/job';

/** Option paths (as ConfigError names them) → the flag that sets them. */
const FLAGS: Record<string, string> = {
  batchSize: '--batch-size',
  maxAttempts: '--max-attempts',
  maxBatchesInFlight: '--max-in-flight',
  'poll.initialMs': '--poll-initial',
  'poll.capMs': '--poll-cap',
  priority: '--priority',
  preempt: '--preempt',
  'sla.deadlineMs': '--sla/--deadline',
  'sla.windowMs': '--window',
  'sla.marginMs': '--margin',
  'sla.mode': '--mode',
  'sla.syncThreshold': '--sync-threshold',
  'sla.syncConcurrency': '--sync-concurrency',
};

/** Throws a ConfigError naming the flag when `options` (built from flags) are not valid job options. */
export function checkJobFlags(options: JobOptionsInput): void {
  try {
    parseConfig(JobOptionsSchema, options);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const flag = FLAGS[err.field];
    if (flag === undefined) throw err;
    // "poll.capMs: capMs must be ≥ initialMs" becomes "--poll-cap: must be ≥ --poll-initial".
    const reason = err.reason.replace(/^capMs must be/, 'must be').replace(/\binitialMs\b/g, '--poll-initial');
    throw new ConfigError(flag, reason, { cause: err });
  }
}
