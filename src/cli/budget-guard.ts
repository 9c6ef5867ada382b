/**
 * The client's side of a budget and of an estimate: the API client and prices from the configuration, the check that
 * refuses a budget which could never send one sub-batch (exit 2, before anything is sent), and the hook `sluice run
 * --budget` gives startJob to count every request's tokens (free) before the job starts.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { anthropicSdk } from '../anthropic/sdk';
import type { SluiceConfig } from '../config';
import { syncWorstOf } from '../domain/budget';
import { ConfigError } from '../domain/errors';
import type { JobEstimate } from '../domain/estimate';
import type { JobOptions } from '../domain/job';
import { withPriceOverrides, type PriceTable } from '../domain/prices';
import { estimateJob } from '../client/estimate';
import type { StartJobOptions } from '../client/jobs';
import { UsageError } from './errors';

/** A client for the token counting endpoint, when this process has an API key (the emulator's included). */
export function anthropicFromConfig(config: Pick<SluiceConfig, 'ANTHROPIC_API_KEY' | 'ANTHROPIC_BASE_URL'>): Anthropic | undefined {
  if (!config.ANTHROPIC_API_KEY) return undefined;
  const Sdk = anthropicSdk();
  return new Sdk({ apiKey: config.ANTHROPIC_API_KEY, baseURL: config.ANTHROPIC_BASE_URL, maxRetries: 4, timeout: 30_000 });
}

/** The price table the workers use: the built-in one with SLUICE_PRICES over it. */
export function pricesFromConfig(config: Pick<SluiceConfig, 'SLUICE_PRICES'>): PriceTable {
  if (!config.SLUICE_PRICES) return withPriceOverrides(undefined);
  let overrides: unknown;
  try {
    overrides = JSON.parse(config.SLUICE_PRICES) as unknown;
  } catch (err) {
    throw new ConfigError('SLUICE_PRICES', `is not JSON (${(err as Error).message})`);
  }
  return withPriceOverrides(overrides);
}

/** True when the job's sub-batches would go to the synchronous API from the start (at twice the price). */
function startsSynchronous(requests: number, options: JobOptions): boolean {
  return options.sla.mode === 'sync' || (options.sla.mode === 'auto' && requests <= options.sla.syncThreshold);
}

/** Why the job's budget cannot work, or undefined: an unpriced model, or a limit below one sub-batch's worst case. */
export function budgetProblem(estimate: JobEstimate, options: JobOptions): string | undefined {
  const limit = options.budgetUsd;
  if (limit === undefined) return undefined;
  if (estimate.unpricedModels.length > 0) {
    return `--budget ${limit}: ${estimate.unpricedModels.join(', ')} ${estimate.unpricedModels.length > 1 ? 'have' : 'has'} no price, so no budget can be kept (SLUICE_PRICES can add one)`;
  }
  const sync = startsSynchronous(estimate.requests, options);
  const needed = sync ? syncWorstOf(estimate.largestSubBatchWorstUsd) : estimate.largestSubBatchWorstUsd;
  if (limit < needed) {
    return `--budget ${limit}: below the worst case of one sub-batch (USD ${needed.toFixed(4)}${sync ? ' at synchronous prices' : ''}: its input plus max_tokens of output), so nothing could ever be sent; give at least ${Math.ceil(needed * 10_000) / 10_000}, or a smaller --batch-size or --max-tokens`;
  }
  return undefined;
}

/** startJob's beforeStart for a job with a budget: counts tokens for the plan, refuses a budget that cannot work. */
export function budgetGuard(config: SluiceConfig, options: JobOptions): NonNullable<StartJobOptions['beforeStart']> {
  return async ({ jobId, store }) => {
    const estimate = await estimateJob({
      store,
      jobId,
      anthropic: anthropicFromConfig(config),
      batchSize: options.batchSize,
      prices: pricesFromConfig(config),
      keepCounts: true,
    });
    const problem = budgetProblem(estimate, options);
    if (problem) throw new UsageError(problem);
    const uncounted = estimate.requests - estimate.countedRequests;
    console.error(
      `Budget USD ${options.budgetUsd}: the whole job costs at most USD ${estimate.costUsd.worstCase.batch.toFixed(4)} by batch` +
        (uncounted > 0 ? ` (${uncounted} requests not counted, bounded at one token per byte)` : ''),
    );
  };
}
