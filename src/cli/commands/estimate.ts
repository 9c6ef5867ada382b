/**
 * `sluice estimate FILE` (and `sluice run FILE --dry-run`): the input validated exactly as a run validates it (the
 * same input preparation, into a private temporary store), then priced: requests, sub-batches, input tokens counted
 * by the Messages API's token counting endpoint (free), the worst case, the cost at batch and synchronous prices, the
 * effect of cache_control marks and, for an SLA, the latest batch submission. No job starts and nothing billable is
 * sent; a budget that could never send one sub-batch is refused (exit 2), as `run --budget` would refuse it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { modelCatalogFromEnv } from '../../anthropic/model-catalog';
import { estimateJob } from '../../client/estimate';
import { prepareInput } from '../../client/prepare-input';
import { loadConfig } from '../../config';
import { InputError, parseConfig } from '../../domain/errors';
import { JobOptionsSchema } from '../../domain/job';
import { latestBatchSubmissionMs } from '../../domain/sla';
import { LocalDirectoryStore } from '../../store/local-store';
import { anthropicFromConfig, budgetProblem, pricesFromConfig } from '../budget-guard';
import { UsageError } from '../errors';
import { estimateText, type EstimateReport } from '../estimate-text';
import { addJobShapeOptions } from '../job-flags';
import { addPlanOptions, jobSetupFrom, type RunOptions } from '../run-options';
import { checkInputFile, stdinAsFile } from '../run-input';

export function registerEstimateCommand(program: Command) {
  const estimate = program
    .command('estimate')
    .description('validate a JSONL file as `sluice run` does and price it: tokens, sub-batches, worst case, cost; nothing billable is sent')
    .argument('<input>', 'JSONL file: one {"custom_id"?, "params": {...}} per line; - reads standard input')
    .option('--skip-invalid', 'price the good lines and say how many were bad')
    .option('--json', 'the estimate as one JSON object')
    .action((input: string, opts: RunOptions) => estimateCommand(input, opts));
  addPlanOptions(estimate);
  addJobShapeOptions(estimate);
}

export async function estimateCommand(input: string, opts: RunOptions): Promise<void> {
  const nowMs = Date.now();
  const { defaults, options: optionsInput } = jobSetupFrom(opts, nowMs);
  const options = parseConfig(JobOptionsSchema, optionsInput);
  const config = loadConfig(process.env);
  const prices = pricesFromConfig(config);
  if (input !== '-') await checkInputFile(input);
  const fromStdin = input === '-' ? await stdinAsFile() : undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-estimate-'));
  try {
    const store = new LocalDirectoryStore(dir);
    const jobId = 'estimate';
    let prepared;
    try {
      prepared = await prepareInput({
        file: fromStdin?.file ?? input,
        jobId,
        store,
        defaults,
        skipInvalid: opts.skipInvalid,
        models: await modelCatalogFromEnv(config),
      });
    } catch (err) {
      if (fromStdin && err instanceof InputError) throw new InputError(err.issues, { file: '<stdin>', cause: err });
      throw err;
    }
    const anthropic = anthropicFromConfig(config);
    if (!anthropic) console.error('No ANTHROPIC_API_KEY: tokens are not counted but bounded at one token per byte (set it, or point ANTHROPIC_BASE_URL at `sluice emulator`).');
    const estimate = await estimateJob({ store, jobId, anthropic, batchSize: options.batchSize, prices, outputTokensPerRequest: opts.outputTokens });
    const problem = budgetProblem(estimate, options);
    if (problem) throw new UsageError(problem);
    const sla = options.sla;
    const report: EstimateReport = {
      file: input === '-' ? '<stdin>' : input,
      ...estimate,
      ...(sla.deadlineMs === undefined
        ? {}
        : {
            sla: {
              deadline: new Date(sla.deadlineMs).toISOString(),
              latestBatchSubmission: new Date(latestBatchSubmissionMs({ deadlineMs: sla.deadlineMs, windowMs: sla.windowMs, marginMs: sla.marginMs })).toISOString(),
              windowMs: sla.windowMs,
              marginMs: sla.marginMs,
            },
          }),
      ...(options.budgetUsd === undefined
        ? {}
        : {
            budget: {
              limitUsd: options.budgetUsd,
              largestSubBatchWorstUsd: estimate.largestSubBatchWorstUsd,
              coversWorstCase: options.budgetUsd >= estimate.costUsd.worstCase.batch,
            },
          }),
      billableCallsSent: false,
    };
    if (prepared.rejected > 0) console.error(`${prepared.rejected} bad lines skipped (--skip-invalid).`);
    console.log(opts.json ? JSON.stringify(report, null, 2) : estimateText(report, nowMs));
  } finally {
    await rm(dir, { recursive: true, force: true });
    await fromStdin?.cleanup();
  }
}
