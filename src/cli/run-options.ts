/**
 * What `sluice run` and `sluice estimate` share: their flags (the SLA, the route, the budget), and how those become
 * the job's defaults and options, checked before anything connects and named by the flag the user typed.
 */
import { Option, type Command } from 'commander';
import { parseDuration } from '../domain/duration';
import { parseConfig } from '../domain/errors';
import { JobDefaultsSchema, type JobDefaults } from '../domain/request';
import type { JobOptionsInput } from '../domain/job';
import type { SlaPolicyInput } from '../domain/sla-route';
import { UsageError } from './errors';
import { checkJobFlags, windowFromFlag, WINDOW_FLAG_HELP, type JobShapeFlags } from './job-flags';
import { int, usd } from './parse';
import type { SpendFlags } from './spend-flags';
import type { TemplateFlags } from './template-run';
import { checkDeadline, checkName } from './run-input';

export interface RunOptions extends JobShapeFlags, SpendFlags, TemplateFlags {
  out?: string;
  name?: string;
  skipInvalid?: boolean;
  detach?: boolean;
  sla?: string;
  deadline?: string;
  window?: string;
  margin?: string;
  syncFallback?: boolean;
  mode?: 'auto' | 'batch' | 'sync';
  syncConcurrency?: number;
  syncThreshold?: number;
  priority?: number;
  preempt?: 'stop' | 'cancel';
  budget?: number;
  dryRun?: boolean;
  json?: boolean;
  outputTokens?: number;
  cachePrefix?: boolean;
  cacheTtl?: string;
}

/** The flags that decide what a job costs and when it may be sent. */
export function addPlanOptions(command: Command): Command {
  return command
    .option('--sla <duration>', 'all results due this long after the start, e.g. 30h')
    .option('--deadline <time>', 'all results due at this time, e.g. 2026-12-01T06:00Z')
    .option('--window <duration|learned>', WINDOW_FLAG_HELP)
    .option('--margin <duration>', 'margin M kept after the window (default 2h)')
    .option('--no-sync-fallback', 'past the window rule, report requests sla_missed instead of sending them synchronously')
    .addOption(new Option('--mode <mode>', 'auto: batch unless tiny or late; batch: never sync; sync: never batch').choices(['auto', 'batch', 'sync']))
    .option('--sync-concurrency <n>', 'synchronous calls at once per sub-batch (default 8)', int('--sync-concurrency'))
    .option('--sync-threshold <n>', 'jobs of at most this many requests go synchronous in auto mode (default 1)', int('--sync-threshold'))
    .option('--priority <n>', 'urgency in the shared batch queue, 1 = most urgent (default 5)', int('--priority'))
    .addOption(new Option('--preempt <mode>', 'when a more urgent job needs room: stop submitting, or also cancel young batches').choices(['stop', 'cancel']))
    .option('--budget <usd>', 'hard ceiling in USD: a sub-batch is sent only if its worst case fits; the job holds at the limit until `sluice budget` raises it', usd('--budget'))
    .option('--output-tokens <n>', 'for an estimate: a typical answer\'s length, for an expected cost', int('--output-tokens'));
}

/** The job's SLA policy from the flags; --sla and --deadline are two ways to say the same thing. */
export function slaPolicyFrom(opts: RunOptions, nowMs: number): SlaPolicyInput {
  if (opts.sla && opts.deadline) throw new UsageError('give --sla or --deadline, not both');
  let deadlineMs: number | undefined;
  if (opts.sla) {
    const slaMs = parseDuration(opts.sla, '--sla');
    if (slaMs <= 0) throw new UsageError(`--sla ${opts.sla}: must be longer than 0`);
    deadlineMs = nowMs + slaMs;
    checkDeadline(deadlineMs, nowMs, '--sla', opts.sla);
  }
  if (opts.deadline) {
    // A date alone ("2026-12-01") or a bare number ("99999", year 99999) is not what anyone means by a deadline.
    deadlineMs = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(opts.deadline) ? Date.parse(opts.deadline) : NaN;
    if (!Number.isFinite(deadlineMs)) throw new UsageError(`--deadline must be a date and time such as 2026-12-01T06:00Z (got "${opts.deadline}")`);
    if (deadlineMs <= nowMs) throw new UsageError(`--deadline ${opts.deadline} has already passed`);
    checkDeadline(deadlineMs, nowMs, '--deadline', opts.deadline);
  }
  return {
    deadlineMs,
    ...windowFromFlag(opts.window),
    marginMs: opts.margin ? parseDuration(opts.margin, '--margin') : undefined,
    syncFallback: opts.syncFallback,
    mode: opts.mode,
    syncConcurrency: opts.syncConcurrency,
    syncThreshold: opts.syncThreshold,
  };
}

/** The job's request defaults and options from `run`'s flags (also `estimate`'s), checked and naming the flag. */
export function jobSetupFrom(opts: RunOptions, nowMs: number): { defaults: JobDefaults; options: JobOptionsInput } {
  const defaults = parseConfig(
    JobDefaultsSchema,
    { model: opts.model, max_tokens: opts.maxTokens, system: opts.system, temperature: opts.temperature },
    'defaults',
  );
  const options: JobOptionsInput = {
    batchSize: opts.batchSize,
    maxAttempts: opts.maxAttempts,
    maxBatchesInFlight: opts.maxInFlight,
    priority: opts.priority,
    preempt: opts.preempt,
    budgetUsd: opts.budget,
  };
  if (opts.pollInitial || opts.pollCap) {
    const initialMs = opts.pollInitial ? parseDuration(opts.pollInitial, '--poll-initial') : 30_000;
    const capMs = opts.pollCap ? parseDuration(opts.pollCap, '--poll-cap') : Math.max(initialMs, 300_000);
    options.poll = { initialMs, capMs, growth: 1.5 };
  }
  options.sla = slaPolicyFrom(opts, nowMs);
  checkJobFlags(options);
  if (opts.name !== undefined) checkName(opts.name);
  return { defaults, options };
}

