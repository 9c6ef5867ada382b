/**
 * `sluice run INPUT`: validate, start the job, follow it with a progress bar, write the output. Everything that can
 * be checked is checked before the job starts (flags, --out), and when the command stops following before the
 * end it says that the job goes on and how to get its results.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { modelCatalogFromEnv } from '../../anthropic/model-catalog';
import { startJob } from '../../client/jobs';
import { parseDuration } from '../../domain/duration';
import { InputError, parseConfig } from '../../domain/errors';
import { JobDefaultsSchema } from '../../domain/request';
import { JobOptionsSchema, type JobOptionsInput } from '../../domain/job';
import type { SlaPolicyInput } from '../../domain/sla-route';
import { UsageError } from '../errors';
import { openContext } from '../context';
import { howToGetResults, StoppedFollowingError, waitRiding, warnWhileNoWorker } from '../follow-job';
import { addJobShapeOptions, checkJobFlags, windowFromFlag, WINDOW_FLAG_HELP, type JobShapeFlags } from '../job-flags';
import { outDirFor, prepareOutDir, writeJobOutput } from '../../client/output-files';
import { followJob } from '../progress-bar';
import { checkDeadline, checkInputFile, checkName, slaWarning, stdinAsFile } from '../run-input';
import { untilInterrupted } from '../signals';
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
  cachePrefix?: boolean;
  cacheTtl?: string;
}

export function registerRunCommand(program: Command) {
  const run = program
    .command('run')
    .description('run a JSONL file of requests as one job through the Message Batches API')
    .argument('<input>', 'JSONL file: one {"custom_id"?, "params": {...}} per line; - reads standard input')
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
    .option('--cache-prefix', 'mark the leading blocks requests share with cache_control, and send requests of one prefix together')
    .option('--cache-ttl <ttl>', 'lifetime of the cache entries --cache-prefix marks: 1h (default, recommended for batches) or 5m')
    .option('--detach', 'start the job, print its id and Web UI link, and return')
    .action((input: string, opts: RunOptions) => runCommand(input, opts));
  addJobShapeOptions(run);
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

/** `--cache-prefix` alone means the 1-hour lifetime the docs recommend for batches. */
export function cachePrefixFrom(opts: Pick<RunOptions, 'cachePrefix' | 'cacheTtl'>): Pick<JobOptionsInput, 'cachePrefix'> {
  if (opts.cacheTtl !== undefined && !opts.cachePrefix) throw new UsageError('--cache-ttl is the lifetime of what --cache-prefix marks: give --cache-prefix too');
  if (!opts.cachePrefix) return {};
  const ttl = (opts.cacheTtl ?? '1h').trim().toLowerCase();
  if (ttl !== '1h' && ttl !== '5m') {
    throw new UsageError(`--cache-ttl ${opts.cacheTtl}: must be 1h or 5m (the lifetimes the API offers; 1h is recommended for batches)`);
  }
  return { cachePrefix: { ttl } };
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
    ...cachePrefixFrom(opts),
  };
  if (opts.pollInitial || opts.pollCap) {
    const initialMs = opts.pollInitial ? parseDuration(opts.pollInitial, '--poll-initial') : 30_000;
    const capMs = opts.pollCap ? parseDuration(opts.pollCap, '--poll-cap') : Math.max(initialMs, 300_000);
    options.poll = { initialMs, capMs, growth: 1.5 };
  }
  const nowMs = Date.now();
  options.sla = slaPolicyFrom(opts, nowMs);
  checkJobFlags(options);
  if (opts.name !== undefined) checkName(opts.name);
  const warning = slaWarning(parseConfig(JobOptionsSchema, options).sla, nowMs);
  if (warning) console.error(warning);
  // Before anything is sent: a file in the way of --out must not surface after the batches are paid.
  await prepareOutDir(path.resolve(opts.out ?? 'out'));

  if (input !== '-') await checkInputFile(input);
  const fromStdin = input === '-' ? await stdinAsFile() : undefined;
  const ctx = await openContext();
  try {
    let started;
    try {
      started = await startJob({
        client: ctx.client,
        store: ctx.store,
        taskQueue: ctx.config.SLUICE_TASK_QUEUE,
        file: fromStdin?.file ?? input,
        name: opts.name ?? (fromStdin ? 'stdin' : undefined),
        defaults,
        options,
        skipInvalid: opts.skipInvalid,
        models: await modelCatalogFromEnv(ctx.config),
      });
    } catch (err) {
      // Issues name the input as the user gave it, not the temporary copy of standard input.
      if (fromStdin && err instanceof InputError) throw new InputError(err.issues, { file: '<stdin>', cause: err });
      throw err;
    }
    const { workflowId, prepared } = started;
    const outDir = outDirFor(workflowId, opts.out);
    if (prepared.rejected > 0) {
      console.error(`${prepared.rejected} bad lines skipped (see rejects.jsonl in the output).`);
    }
    console.error(`Started ${workflowId}: ${prepared.requestCount} requests.`);
    const log = (line: string) => console.error(line);
    const noWorker = (until: Promise<unknown>) =>
      warnWhileNoWorker(ctx.client, {
        namespace: ctx.config.TEMPORAL_NAMESPACE,
        taskQueue: ctx.config.SLUICE_TASK_QUEUE,
        address: ctx.config.TEMPORAL_ADDRESS,
        log,
        until,
      });
    if (opts.detach) {
      console.log(workflowId);
      console.error(`Web UI: ${ctx.uiLink(workflowId)}\nFollow it with: sluice status ${workflowId}`);
      await noWorker(new Promise((r) => setTimeout(r, 4_000)));
      return;
    }
    const interrupted = untilInterrupted();
    const done = waitRiding(ctx.client, workflowId, { address: ctx.config.TEMPORAL_ADDRESS, log, interrupted });
    const watching = noWorker(done);
    let summary;
    try {
      await followJob(ctx.client, workflowId, done);
      summary = await done;
    } catch (err) {
      if (err instanceof StoppedFollowingError) {
        const why = err.interrupted ? 'Interrupted: stopped following.' : `${err.message} Stopped following.`;
        throw new StoppedFollowingError(`${why}\n${howToGetResults(workflowId, outDir)}`, err.interrupted);
      }
      throw err;
    } finally {
      await watching.catch(() => {});
    }
    await writeJobOutput(ctx.store, workflowId, outDir);
    printSummary(summary, outDir, ctx.uiLink(workflowId));
  } finally {
    await fromStdin?.cleanup();
    await ctx.close();
  }
}
