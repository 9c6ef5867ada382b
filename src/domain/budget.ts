/**
 * A job's hard budget: before a sub-batch (or a synchronous sub-batch) is sent, its worst case is reserved; when it
 * is collected, the reservation is released and its actual cost spent. A sub-batch is sent only if what is spent,
 * what is reserved and its own worst case together stay within the limit, so the job can never spend past it.
 * Pure functions over plain JSON: the ledger lives in the job workflow's state.
 */
import { costOfUsage, type PriceMode } from './cost';
import { BATCH_PRICE_MULTIPLIER, DEFAULT_PRICES, type PriceTable } from './prices';

/** Rounding slack when comparing sums of floating-point USD (a millionth of a cent). */
const EPSILON_USD = 1e-8;

export interface BudgetLedger {
  limitUsd: number;
  /** Worst cases of what is out (batches in flight, synchronous sub-batches running). */
  reservedUsd: number;
  /** Actual cost of what was collected. */
  spentUsd: number;
  /** The reservation of each shard that is out, by shard key. */
  reservations: Record<string, number>;
  /** The most that was ever spent and reserved at once: never above the limit. */
  peakCommittedUsd: number;
}

export function newLedger(limitUsd: number): BudgetLedger {
  return { limitUsd, reservedUsd: 0, spentUsd: 0, reservations: {}, peakCommittedUsd: 0 };
}

export function committedUsd(l: BudgetLedger): number {
  return l.spentUsd + l.reservedUsd;
}

/** True when a shard whose worst case is `worstUsd` may be sent now. */
export function fits(l: BudgetLedger, worstUsd: number): boolean {
  return committedUsd(l) + worstUsd <= l.limitUsd + EPSILON_USD;
}

/** The ledger with `worstUsd` reserved for `shardKey` (a second reservation of the same key replaces the first). */
export function reserve(l: BudgetLedger, shardKey: string, worstUsd: number): BudgetLedger {
  const before = l.reservations[shardKey] ?? 0;
  const reservedUsd = l.reservedUsd - before + worstUsd;
  return {
    ...l,
    reservedUsd,
    reservations: { ...l.reservations, [shardKey]: worstUsd },
    peakCommittedUsd: Math.max(l.peakCommittedUsd, l.spentUsd + reservedUsd),
  };
}

/** The ledger once `shardKey` was collected at `actualUsd`: its reservation released, the actual cost spent. */
export function settle(l: BudgetLedger, shardKey: string, actualUsd: number): BudgetLedger {
  const { [shardKey]: held = 0, ...rest } = l.reservations;
  const reservedUsd = Math.max(0, l.reservedUsd - held);
  const spentUsd = l.spentUsd + actualUsd;
  return { ...l, reservedUsd, spentUsd, reservations: rest, peakCommittedUsd: Math.max(l.peakCommittedUsd, spentUsd + reservedUsd) };
}

/** Why `limitUsd` cannot be the job's new budget, or undefined when it can. */
export function newLimitProblem(l: BudgetLedger, limitUsd: number): string | undefined {
  if (!Number.isFinite(limitUsd) || limitUsd <= 0) return 'the budget must be a positive number of USD';
  const committed = committedUsd(l);
  if (limitUsd + EPSILON_USD < committed) {
    return `the budget must be at least USD ${committed.toFixed(4)}, what the job has spent (${l.spentUsd.toFixed(4)}) and reserved (${l.reservedUsd.toFixed(4)})`;
  }
  return undefined;
}

export function withLimit(l: BudgetLedger, limitUsd: number): BudgetLedger {
  return { ...l, limitUsd };
}

/** What one request can cost at most: its input (as cache writes if it marks cache_control) plus max_tokens of output. */
export interface WorstCaseInput {
  model: string;
  inputTokens: number;
  maxTokens: number;
  cacheMark?: '5m' | '1h';
}

/** USD at most for one request, at batch or synchronous prices; undefined when the model has no price. */
export function worstCaseUsd(r: WorstCaseInput, mode: PriceMode, prices: PriceTable = DEFAULT_PRICES): number | undefined {
  const plain = costOfUsage(r.model, { input_tokens: r.inputTokens, output_tokens: r.maxTokens }, mode, prices);
  if (plain === undefined || r.cacheMark === undefined) return plain;
  // Every input token written to the cache is the dearest way the API could bill the prompt.
  const written = costOfUsage(
    r.model,
    {
      cache_creation_input_tokens: r.inputTokens,
      cache_creation: r.cacheMark === '1h' ? { ephemeral_1h_input_tokens: r.inputTokens } : null,
      output_tokens: r.maxTokens,
    },
    mode,
    prices,
  );
  return Math.max(plain, written ?? plain);
}

/** A shard's worst case through the synchronous API, from its worst case by batch (every price is doubled). */
export function syncWorstOf(batchWorstUsd: number): number {
  return batchWorstUsd / BATCH_PRICE_MULTIPLIER;
}
