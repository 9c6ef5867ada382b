/**
 * Job options from `sluice run` flags, checked before anything connects: a bad value is reported with the flag
 * the user typed (`--batch-size`), not the option's name inside Sluice (`batchSize`), and without first waiting
 * for a Temporal server that a typo never needed.
 */
import type { Command } from 'commander';
import { parseDuration } from '../domain/duration';
import { ConfigError, parseConfig } from '../domain/errors';
import { JobOptionsSchema, type JobOptionsInput } from '../domain/job';
import { int, number } from './parse';

/** Option paths (as ConfigError names them) → the flag that sets them. */
const FLAGS: Record<string, string> = {
  batchSize: '--batch-size',
  maxAttempts: '--max-attempts',
  maxBatchesInFlight: '--max-in-flight',
  'poll.initialMs': '--poll-initial',
  'poll.capMs': '--poll-cap',
  priority: '--priority',
  preempt: '--preempt',
  budgetUsd: '--budget',
  'sla.deadlineMs': '--sla/--deadline',
  'sla.windowMs': '--window',
  'sla.marginMs': '--margin',
  'sla.mode': '--mode',
  'sla.syncThreshold': '--sync-threshold',
  'sla.syncConcurrency': '--sync-concurrency',
  'canary.requests': '--canary',
  'canary.maxFailurePercent': '--canary-max-failures',
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

/** `--window 24h` (a fixed W) or `--window learned` (fitted from the account's own batches at planning). */
export function windowFromFlag(value: string | undefined, flag = '--window'): { windowMs?: number; window?: 'learned' } {
  if (value === undefined || value === '') return {};
  if (value.trim().toLowerCase() === 'learned') return { window: 'learned' };
  return { windowMs: parseDuration(value, flag) };
}

export const WINDOW_FLAG_HELP = 'batch window W the SLA rule assumes: a duration (default 24h), or "learned" from this account\'s batches';

/** What addJobShapeOptions adds, as commander parses it. */
export interface JobShapeFlags {
  batchSize?: number;
  maxAttempts?: number;
  maxInFlight?: number;
  model?: string;
  maxTokens?: number;
  system?: string;
  temperature?: number;
  pollInitial?: string;
  pollCap?: string;
}

/** The options that shape a job's requests and pacing, the same for `sluice run` and `sluice schedule create`. */
export function addJobShapeOptions(command: Command): Command {
  return command
    .option('--batch-size <n>', 'requests per sub-batch, 1..100000 (default 100)', int('--batch-size'))
    .option('--max-attempts <n>', 'times a request is sent at most (default 3)', int('--max-attempts'))
    .option('--max-in-flight <n>', 'batches in flight at once (default 500)', int('--max-in-flight'))
    .option('--model <model>', 'model for requests that name none')
    .option('--max-tokens <n>', 'max_tokens for requests that set none', int('--max-tokens'))
    .option('--system <text>', 'system prompt for requests that have none')
    .option('--temperature <t>', 'temperature for requests that set none', number('--temperature'))
    .option('--poll-initial <duration>', 'first wait between polls (default 30s)')
    .option('--poll-cap <duration>', 'longest wait between polls (default 5m)');
}
