// What requests cost, from their usage and the price table.
import { BATCH_PRICE_MULTIPLIER, DEFAULT_PRICES, lookupPrice, priceBand } from './prices';
import type { PriceTable } from './prices';

/** A Message's `usage`, as the API reports it. Absent or null counts are zero. */
export interface Usage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** Split of cache writes by lifetime, when the API gives it. */
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
}

export type PriceMode = 'batch' | 'sync';

/** A request's cost split by the kind of token that incurred it. */
export interface CostByKind {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

/**
 * USD for one request's usage, by token kind; undefined when `model` has no price. Cache writes cost the model's
 * 5-minute write price, except those `cache_creation` marks as 1-hour; cache reads the read price (by default ×1.25,
 * ×2 and ×0.1 of input). A model with a long-prompt band (Haiku 5.5) charges every token of a request whose prompt is
 * over the threshold at that band. In 'batch' mode everything is halved, cache prices included.
 */
export function costByKind(
  model: string,
  usage: Usage,
  mode: PriceMode,
  prices: PriceTable = DEFAULT_PRICES,
): CostByKind | undefined {
  const price = lookupPrice(model, prices);
  if (price === undefined) return undefined;
  const written = cacheWriteTokens(usage);
  const write1h = Math.min(written, usage.cache_creation?.ephemeral_1h_input_tokens ?? 0);
  const read = usage.cache_read_input_tokens ?? 0;
  const input = usage.input_tokens ?? 0;
  const band = priceBand(price, input + written + read);
  const scale = (mode === 'batch' ? BATCH_PRICE_MULTIPLIER : 1) / 1_000_000;
  return {
    input: input * band.inputUsdPerMTok * scale,
    output: (usage.output_tokens ?? 0) * band.outputUsdPerMTok * scale,
    cacheWrite: ((written - write1h) * band.cacheWrite5mUsdPerMTok + write1h * band.cacheWrite1hUsdPerMTok) * scale,
    cacheRead: read * band.cacheReadUsdPerMTok * scale,
  };
}

/** USD for one request's usage (the sum of costByKind); undefined when `model` has no price. */
export function costOfUsage(
  model: string,
  usage: Usage,
  mode: PriceMode,
  prices: PriceTable = DEFAULT_PRICES,
): number | undefined {
  const k = costByKind(model, usage, mode, prices);
  return k === undefined ? undefined : k.input + k.output + k.cacheWrite + k.cacheRead;
}

/**
 * What prompt caching saved on one request, in USD at its mode's prices: its cache writes and reads priced as plain
 * input, less what they cost as writes and reads. Negative when a write was never read back (a 1-hour write costs
 * 2× input). Zero for a request that cached nothing; undefined when `model` has no price.
 */
export function cacheSavingUsd(
  model: string,
  usage: Usage,
  mode: PriceMode,
  prices: PriceTable = DEFAULT_PRICES,
): number | undefined {
  const written = cacheWriteTokens(usage);
  const read = usage.cache_read_input_tokens ?? 0;
  const actual = costByKind(model, usage, mode, prices);
  const plain = costByKind(model, { input_tokens: (usage.input_tokens ?? 0) + written + read }, mode, prices);
  if (actual === undefined || plain === undefined) return undefined;
  if (written + read === 0) return 0;
  return plain.input - (actual.input + actual.cacheWrite + actual.cacheRead);
}

/** Cache writes: the total when given, else the sum of the lifetime split. */
export function cacheWriteTokens(usage: Usage): number {
  const split = usage.cache_creation;
  return (
    usage.cache_creation_input_tokens ??
    (split?.ephemeral_5m_input_tokens ?? 0) + (split?.ephemeral_1h_input_tokens ?? 0)
  );
}

/** Running totals of a job: plain JSON, safe in workflow state and history. */
export interface CostTally {
  /** What the requests cost as they ran (batch or sync). */
  usd: number;
  /** What they would have cost through the synchronous API: the saving is the difference. */
  syncEquivalentUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  /** Requests whose model had no price: their tokens count, their cost does not. */
  unpricedRequests: number;
  /** Distinct models without a price, sorted, for the summary to name. */
  unpricedModels: string[];
}

export function emptyTally(): CostTally {
  return {
    usd: 0,
    syncEquivalentUsd: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    unpricedRequests: 0,
    unpricedModels: [],
  };
}

/** A new tally with one request's usage added. */
export function addUsage(
  tally: CostTally,
  model: string,
  usage: Usage,
  mode: PriceMode,
  prices: PriceTable = DEFAULT_PRICES,
): CostTally {
  const usd = costOfUsage(model, usage, mode, prices);
  const syncUsd = costOfUsage(model, usage, 'sync', prices);
  const priced = usd !== undefined && syncUsd !== undefined;
  return {
    usd: tally.usd + (usd ?? 0),
    syncEquivalentUsd: tally.syncEquivalentUsd + (syncUsd ?? 0),
    inputTokens: tally.inputTokens + (usage.input_tokens ?? 0),
    outputTokens: tally.outputTokens + (usage.output_tokens ?? 0),
    cacheCreationInputTokens: tally.cacheCreationInputTokens + cacheWriteTokens(usage),
    cacheReadInputTokens: tally.cacheReadInputTokens + (usage.cache_read_input_tokens ?? 0),
    unpricedRequests: tally.unpricedRequests + (priced ? 0 : 1),
    unpricedModels: priced ? tally.unpricedModels : mergeSorted(tally.unpricedModels, [model]),
  };
}

/** A new tally that is the sum of two (e.g. per-batch tallies into the job's). */
export function addTallies(a: CostTally, b: CostTally): CostTally {
  return {
    usd: a.usd + b.usd,
    syncEquivalentUsd: a.syncEquivalentUsd + b.syncEquivalentUsd,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens + b.cacheCreationInputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
    unpricedRequests: a.unpricedRequests + b.unpricedRequests,
    unpricedModels: mergeSorted(a.unpricedModels, b.unpricedModels),
  };
}

function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  return [...a, ...b.filter((m) => !a.includes(m))].sort();
}
