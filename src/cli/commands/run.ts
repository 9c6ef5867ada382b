/**
 * `sluice run INPUT`: validate, start the job, follow it with a progress bar, write the output. Everything that can
 * be checked is checked before the job starts (flags, --out), and when the command stops following before the
 * end it says that the job goes on and how to get its results.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { modelCatalogFromEnv } from '../../anthropic/model-catalog';
import { startJob } from '../../client/jobs';
import { InputError, parseConfig } from '../../domain/errors';
import { JobOptionsSchema, type JobOptionsInput } from '../../domain/job';
import { openContext } from '../context';
import { howToGetResults, StoppedFollowingError, waitRiding, warnWhileNoWorker } from '../follow-job';
import { addJobShapeOptions } from '../job-flags';
import { outDirFor, prepareOutDir, writeJobOutput } from '../../client/output-files';
import { followJob } from '../progress-bar';
import { checkInputFile, slaWarning, stdinAsFile } from '../run-input';
import { untilInterrupted } from '../signals';
import { CanaryStoppedError, printSummary } from '../summary';
import { budgetGuard } from '../budget-guard';
import { addPlanOptions, jobSetupFrom, type RunOptions } from '../run-options';
import { addSpendOptions, asSpendFlagError, spendSettingsFrom } from '../spend-flags';
import { estimateCommand } from './estimate';
import { UsageError } from '../errors';
import { int } from '../parse';
import { templateRun } from '../template-run';

export function registerRunCommand(program: Command) {
  const run = program
    .command('run')
    .description('run a JSONL file of requests as one job through the Message Batches API')
    .argument('<input>', 'JSONL file: one {"custom_id"?, "params": {...}} per line (with --template: rows, CSV or JSONL); - reads standard input')
    .option('--template <file>', 'make one request per row of INPUT from this prompt template (docs/templates.md)')
    .option('--id-column <name>', 'with --template: the column whose value is the row\'s custom_id (default id, else custom_id)')
    .option('--pack <n>', 'with --template: n rows per prompt, answered as one JSON array and filed back per row', int('--pack'))
    .option('--out <dir>', 'where results.jsonl, failures.jsonl and summary.json go (default out/<job id>)')
    .option('--name <name>', 'job name shown in the Web UI (default: the file name)')
    .option('--skip-invalid', 'write bad lines to rejects.jsonl and run the rest')
    .option('--cache-prefix', 'mark the leading blocks requests share with cache_control, and send requests of one prefix together')
    .option('--cache-ttl <ttl>', 'lifetime of the cache entries --cache-prefix marks: 1h (default, recommended for batches) or 5m')
    .option('--detach', 'start the job, print its id and Web UI link, and return')
    .action((input: string, opts: RunOptions) => runCommand(input, opts));
  addPlanOptions(run);
  run
    .option('--dry-run', 'validate and price the job as `sluice estimate` does: nothing billable is sent, no job starts')
    .option('--json', 'with --dry-run: the estimate as JSON');
  addJobShapeOptions(run);
  addSpendOptions(run);
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
  if (opts.dryRun) return estimateCommand(input, opts);
  const nowMs = Date.now();
  const { defaults: flagDefaults, options } = jobSetupFrom(opts, nowMs);
  // Rows and a template: checked here, before anything connects; flags override the template's front matter.
  const fromTemplate = await templateRun(opts, flagDefaults);
  const defaults = fromTemplate?.defaults ?? flagDefaults;
  Object.assign(options, cachePrefixFrom(opts));
  if (opts.pack !== undefined && opts.pack > 1 && (opts.expect === 'json' || opts.schema !== undefined)) {
    // A packed answer is one JSON array for N rows; the output check judges one answer per request.
    throw new UsageError('--pack cannot be combined with --expect json or --schema yet: check packed answers per row after the run, or drop --pack');
  }
  const spend = await spendSettingsFrom(opts);
  Object.assign(options, spend.options);
  if (options.cachePrefix && (options.budgetUsd !== undefined || options.canary)) {
    // Both cut sub-batches in input order (a budget prices them, a canary is the first N); cache groups do not.
    throw new UsageError('--cache-prefix cannot be combined with --budget or --canary yet: run the canary or the budgeted job without it');
  }
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
        // With a budget: count every request's input tokens (free) and refuse a budget below one sub-batch.
        ...(options.budgetUsd === undefined ? {} : { beforeStart: budgetGuard(ctx.config, parseConfig(JobOptionsSchema, options)) }),
        outputSchema: spend.outputSchema,
        outputSchemaSource: spend.outputSchemaSource,
        lines: fromTemplate?.lines(fromStdin?.file ?? input),
      });
    } catch (caught) {
      const err = asSpendFlagError(caught);
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
    if (summary.canary?.state === 'stopped') throw new CanaryStoppedError(summary.canary);
  } finally {
    await fromStdin?.cleanup();
    await ctx.close();
  }
}
