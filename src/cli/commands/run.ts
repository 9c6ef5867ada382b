/** `sluice run INPUT`: validate, start the job, follow it with a progress bar, write the output. */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { downloadResults, startJob, waitForJob } from '../../client/jobs';
import { parseDuration } from '../../domain/duration';
import { JobDefaultsSchema } from '../../domain/request';
import { parseConfig } from '../../domain/errors';
import type { JobOptionsInput } from '../../domain/job';
import type { SlaPolicyInput } from '../../domain/sla-route';
import { UsageError } from '../errors';
import { openContext } from '../context';
import { addJobShapeOptions, checkJobFlags, windowFromFlag, WINDOW_FLAG_HELP, type JobShapeFlags } from '../job-flags';
import { followJob } from '../progress-bar';
import { printSummary } from '../summary';
import { int } from '../parse';

export interface RunOptions extends JobShapeFlags {
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
}

export function registerRunCommand(program: Command) {
  const run = program
    .command('run')
    .description('run a JSONL file of requests as one job through the Message Batches API')
    .argument('<input>', 'JSONL file: one {"custom_id"?, "params": {...}} per line')
    .option('--out <dir>', 'where results.jsonl, failures.jsonl and summary.json go (default out/<job id>)')
    .option('--name <name>', 'job name shown in the Web UI (default: the file name)')
    .option('--skip-invalid', 'write bad lines to rejects.jsonl and run the rest')
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
    .option('--detach', 'start the job, print its id and Web UI link, and return')
    .action((input: string, opts: RunOptions) => runCommand(input, opts));
  addJobShapeOptions(run);
}

/** The job's SLA policy from the flags; --sla and --deadline are two ways to say the same thing. */
export function slaPolicyFrom(opts: RunOptions, nowMs: number): SlaPolicyInput {
  if (opts.sla && opts.deadline) throw new UsageError('give --sla or --deadline, not both');
  let deadlineMs: number | undefined;
  if (opts.sla) deadlineMs = nowMs + parseDuration(opts.sla, '--sla');
  if (opts.deadline) {
    deadlineMs = Date.parse(opts.deadline);
    if (!Number.isFinite(deadlineMs)) throw new UsageError(`--deadline must be a date and time such as 2026-12-01T06:00Z (got "${opts.deadline}")`);
    if (deadlineMs <= nowMs) throw new UsageError(`--deadline ${opts.deadline} has already passed`);
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

export async function runCommand(input: string, opts: RunOptions): Promise<void> {
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
  };
  if (opts.pollInitial || opts.pollCap) {
    const initialMs = opts.pollInitial ? parseDuration(opts.pollInitial, '--poll-initial') : 30_000;
    const capMs = opts.pollCap ? parseDuration(opts.pollCap, '--poll-cap') : Math.max(initialMs, 300_000);
    options.poll = { initialMs, capMs, growth: 1.5 };
  }
  options.sla = slaPolicyFrom(opts, Date.now());
  checkJobFlags(options);
  const ctx = await openContext();
  try {
    const { workflowId, prepared } = await startJob({
      client: ctx.client,
      store: ctx.store,
      taskQueue: ctx.config.SLUICE_TASK_QUEUE,
      file: input,
      name: opts.name,
      defaults,
      options,
      skipInvalid: opts.skipInvalid,
    });
    if (prepared.rejected > 0) {
      console.error(`${prepared.rejected} bad lines skipped (see rejects.jsonl in the output).`);
    }
    console.error(`Started ${workflowId}: ${prepared.requestCount} requests.`);
    if (opts.detach) {
      console.log(workflowId);
      console.error(`Web UI: ${ctx.uiLink(workflowId)}\nFollow it with: sluice status ${workflowId}`);
      return;
    }
    const done = waitForJob(ctx.client, workflowId);
    await followJob(ctx.client, workflowId, done);
    const summary = await done;
    const outDir = path.resolve(opts.out ?? path.join('out', workflowId));
    await downloadResults(ctx.store, workflowId, outDir);
    printSummary(summary, outDir, ctx.uiLink(workflowId));
  } finally {
    await ctx.close();
  }
}
