/**
 * Prices a job before it runs: reads the normalized requests that input preparation stored, counts each one's input
 * tokens through the Messages API's token counting endpoint (free, never billed; bounded concurrency), and adds them
 * up with src/domain/estimate.ts. A request the endpoint cannot count gets an upper bound and is named with the reason.
 * The counts are stored (`jobs/<id>/token-counts.jsonl`, one number per request, in input order) so the plan activity
 * can reserve a budget with the same figures.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { anthropicSdk } from '../anthropic/sdk';
import { createEstimator, type EstimatedRequest, type JobEstimate } from '../domain/estimate';
import type { NormalizedRequest } from '../domain/job';
import type { PriceTable } from '../domain/prices';
import { cacheMarkOf, countTokensBody, inputTokensUpperBound } from '../domain/token-count';
import { mapLimit } from '../domain/map-limit';
import { jobKeys } from '../contracts/store-keys';
import type { BlobStore } from '../store/blob-store';

/** Token counts at once: the endpoint is rate limited apart from the batch endpoints, and free. */
export const DEFAULT_COUNT_CONCURRENCY = 8;
/** Requests held in memory at once while counting. */
const CHUNK = 500;

export interface EstimateJobOptions {
  store: BlobStore;
  jobId: string;
  /** A client for the account (or the emulator); undefined: nothing is counted, every request gets its bound. */
  anthropic?: Anthropic;
  batchSize: number;
  prices?: PriceTable;
  outputTokensPerRequest?: number;
  concurrency?: number;
  /** Store the counts for the plan activity (a run with --budget). */
  keepCounts?: boolean;
}

export async function estimateJob(o: EstimateJobOptions): Promise<JobEstimate> {
  const estimator = createEstimator({ batchSize: o.batchSize, outputTokensPerRequest: o.outputTokensPerRequest, prices: o.prices });
  const counts: string[] = [];
  let chunk: NormalizedRequest[] = [];
  const flush = async () => {
    const counted = await mapLimit(chunk, o.concurrency ?? DEFAULT_COUNT_CONCURRENCY, (r) => countOne(o.anthropic, r));
    for (const r of counted) {
      estimator.add(r);
      counts.push(String(r.inputTokens));
    }
    chunk = [];
  };
  for await (const text of o.store.readLines(jobKeys.input(o.jobId))) {
    chunk.push(JSON.parse(text) as NormalizedRequest);
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();
  if (o.keepCounts) await o.store.writeLines(jobKeys.tokenCounts(o.jobId), counts);
  return estimator.result();
}

async function countOne(anthropic: Anthropic | undefined, r: NormalizedRequest): Promise<EstimatedRequest> {
  const params = r.params as Record<string, unknown>;
  const base = {
    custom_id: r.custom_id,
    line: r.line,
    model: typeof params['model'] === 'string' ? params['model'] : '',
    maxTokens: typeof params['max_tokens'] === 'number' ? params['max_tokens'] : 0,
    paramsBytes: Buffer.byteLength(JSON.stringify(params)),
    cacheMark: cacheMarkOf(params),
  };
  if (!anthropic) return { ...base, inputTokens: inputTokensUpperBound(params), notCounted: 'no API key: counted as one token per byte' };
  try {
    const body = countTokensBody(params) as unknown as Anthropic.MessageCountTokensParams;
    const { input_tokens } = await anthropic.messages.countTokens(body);
    return { ...base, inputTokens: input_tokens };
  } catch (err) {
    return { ...base, inputTokens: inputTokensUpperBound(params), notCounted: whyNotCounted(err) };
  }
}

/** The API's own words (status, type, message) when it answered; the kind of failure otherwise. */
function whyNotCounted(err: unknown): string {
  const Sdk = anthropicSdk();
  if (err instanceof Sdk.APIError && typeof err.status === 'number') {
    const body = err.error as { error?: { type?: string; message?: string } } | undefined;
    return `${err.status} ${body?.error?.type ?? 'error'}: ${body?.error?.message ?? err.message}`;
  }
  if (err instanceof Sdk.APIConnectionError) return 'the token counting endpoint could not be reached';
  return err instanceof Error ? err.message : String(err);
}
