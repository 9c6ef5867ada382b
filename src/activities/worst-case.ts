/**
 * Each request's worst-case USD for a job with a budget, in input order: its input tokens as the client counted them
 * through the API (`jobs/<id>/token-counts.jsonl`, from `sluice run --budget`), else an upper bound of one token per
 * byte (jobs started without the client's count: schedules, intakes), plus max_tokens of output, at the workers' prices.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { worstCaseUsd } from '../domain/budget';
import type { NormalizedRequest } from '../domain/job';
import type { PriceTable } from '../domain/prices';
import { cacheMarkOf, inputTokensUpperBound } from '../domain/token-count';
import { jobKeys } from '../contracts/store-keys';
import type { BlobStore } from '../store/blob-store';

export async function worstCasePricer(store: BlobStore, jobId: string, prices: PriceTable) {
  const counts = (await store.exists(jobKeys.tokenCounts(jobId))) ? store.readLines(jobKeys.tokenCounts(jobId))[Symbol.asyncIterator]() : undefined;
  return {
    async next(request: NormalizedRequest): Promise<number> {
      const params = request.params as Record<string, unknown>;
      const counted = counts ? await counts.next() : undefined;
      const inputTokens = counted && !counted.done ? Number(counted.value) : inputTokensUpperBound(params);
      const model = typeof params['model'] === 'string' ? params['model'] : '';
      const usd = worstCaseUsd(
        { model, inputTokens, maxTokens: typeof params['max_tokens'] === 'number' ? params['max_tokens'] : 0, cacheMark: cacheMarkOf(params) },
        'batch',
        prices,
      );
      // A budget cannot be kept for a model without a price: refuse before anything is sent.
      if (usd === undefined) {
        throw ApplicationFailure.nonRetryable(`line ${request.line}: model ${model} has no price, so a budget cannot be kept (set its price in SLUICE_PRICES)`, 'InputError');
      }
      return usd;
    },
    /** Lets go of the counts (a PostgreSQL store holds a connection while a read is open). */
    async close() {
      await counts?.return?.();
    },
  };
}
