/**
 * The price of a job before it runs, from each request's input tokens (counted by the API, or bounded when it could
 * not count them) and max_tokens: sub-batches cut as the plan cuts them, the worst case (input plus max_tokens), the
 * input alone, an expected cost when the user says how long a typical answer is, the effect of cache_control marks,
 * and the largest sub-batch's worst case (what a budget must at least allow). Pure: the client counts, this adds up.
 */
import { worstCaseUsd } from './budget';
import { costOfUsage } from './cost';
import { REQUEST_ENVELOPE_BYTES } from './limits';
import { DEFAULT_PRICES, type PriceTable } from './prices';
import { createBatchCutter } from './split';

export interface EstimatedRequest {
  custom_id: string;
  line: number;
  model: string;
  maxTokens: number;
  /** Bytes of the params as JSON, for cutting sub-batches as the plan does. */
  paramsBytes: number;
  inputTokens: number;
  /** Why the API could not count it (then inputTokens is the upper bound). */
  notCounted?: string;
  cacheMark?: '5m' | '1h';
}

export interface UsdByMode {
  batch: number;
  sync: number;
}

export interface JobEstimate {
  requests: number;
  subBatches: number;
  batchSize: number;
  inputTokens: number;
  /** Requests the API counted; the others carry an upper bound (one token per byte). */
  countedRequests: number;
  notCounted: { custom_id: string; line: number; reason: string }[];
  maxOutputTokens: number;
  costUsd: {
    /** The input alone: the least the job can cost. */
    inputOnly: UsdByMode;
    /** With `outputTokensPerRequest` of output each (capped at max_tokens), when given. */
    expected?: UsdByMode & { outputTokensPerRequest: number };
    /** Input plus max_tokens of output for every request; cache-marked input priced as cache writes. */
    worstCase: UsdByMode;
  };
  /** Requests marking cache_control, and what their input costs written to or read from the cache (batch prices). */
  cache?: { requestsMarked: number; inputTokens: number; asWritesUsd: number; asReadsUsd: number; asPlainInputUsd: number };
  /** The dearest sub-batch at batch prices: a budget below it can never send it. */
  largestSubBatchWorstUsd: number;
  unpricedModels: string[];
}

export interface EstimateOptions {
  batchSize: number;
  outputTokensPerRequest?: number;
  prices?: PriceTable;
  /** How many not-counted requests to name (all are counted in countedRequests). */
  nameAtMost?: number;
}

/** Adds requests one by one (in input order) and says the estimate at the end; memory stays flat in N. */
export function createEstimator(o: EstimateOptions) {
  const prices = o.prices ?? DEFAULT_PRICES;
  const cutter = createBatchCutter({ maxRequests: o.batchSize });
  const e: JobEstimate = {
    requests: 0,
    subBatches: 0,
    batchSize: o.batchSize,
    inputTokens: 0,
    countedRequests: 0,
    notCounted: [],
    maxOutputTokens: 0,
    costUsd: { inputOnly: { batch: 0, sync: 0 }, worstCase: { batch: 0, sync: 0 } },
    largestSubBatchWorstUsd: 0,
    unpricedModels: [],
  };
  const expected = o.outputTokensPerRequest === undefined ? undefined : { batch: 0, sync: 0, outputTokensPerRequest: o.outputTokensPerRequest };
  let cache: NonNullable<JobEstimate['cache']> | undefined;
  let subBatchWorst = 0;
  const unpriced = new Set<string>();
  const add2 = (into: UsdByMode, batch: number | undefined, sync: number | undefined) => {
    into.batch += batch ?? 0;
    into.sync += sync ?? 0;
  };

  return {
    /** The request's worst case at batch prices (undefined when its model has no price). */
    add(r: EstimatedRequest): number | undefined {
      if (cutter.add(r.paramsBytes + REQUEST_ENVELOPE_BYTES).cutBefore || e.subBatches === 0) {
        e.subBatches++;
        subBatchWorst = 0;
      }
      e.requests++;
      e.inputTokens += r.inputTokens;
      e.maxOutputTokens += r.maxTokens;
      if (r.notCounted === undefined) e.countedRequests++;
      else if (e.notCounted.length < (o.nameAtMost ?? 20)) e.notCounted.push({ custom_id: r.custom_id, line: r.line, reason: r.notCounted });
      const worst = { model: r.model, inputTokens: r.inputTokens, maxTokens: r.maxTokens, cacheMark: r.cacheMark };
      const worstBatch = worstCaseUsd(worst, 'batch', prices);
      if (worstBatch === undefined) unpriced.add(r.model);
      add2(e.costUsd.worstCase, worstBatch, worstCaseUsd(worst, 'sync', prices));
      const input = { input_tokens: r.inputTokens };
      add2(e.costUsd.inputOnly, costOfUsage(r.model, input, 'batch', prices), costOfUsage(r.model, input, 'sync', prices));
      if (expected) {
        const usage = { ...input, output_tokens: Math.min(r.maxTokens, expected.outputTokensPerRequest) };
        add2(expected, costOfUsage(r.model, usage, 'batch', prices), costOfUsage(r.model, usage, 'sync', prices));
      }
      if (r.cacheMark) {
        cache ??= { requestsMarked: 0, inputTokens: 0, asWritesUsd: 0, asReadsUsd: 0, asPlainInputUsd: 0 };
        const n = r.inputTokens;
        cache.requestsMarked++;
        cache.inputTokens += n;
        const ttl1h = r.cacheMark === '1h' ? { ephemeral_1h_input_tokens: n } : null;
        cache.asWritesUsd += costOfUsage(r.model, { cache_creation_input_tokens: n, cache_creation: ttl1h }, 'batch', prices) ?? 0;
        cache.asReadsUsd += costOfUsage(r.model, { cache_read_input_tokens: n }, 'batch', prices) ?? 0;
        cache.asPlainInputUsd += costOfUsage(r.model, input, 'batch', prices) ?? 0;
      }
      subBatchWorst += worstBatch ?? 0;
      e.largestSubBatchWorstUsd = Math.max(e.largestSubBatchWorstUsd, subBatchWorst);
      return worstBatch;
    },
    result(): JobEstimate {
      return {
        ...e,
        costUsd: { ...e.costUsd, ...(expected ? { expected } : {}) },
        ...(cache ? { cache } : {}),
        notCounted: [...e.notCounted],
        unpricedModels: [...unpriced].sort(),
      };
    },
  };
}
