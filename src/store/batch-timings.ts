/**
 * Reads the account's batch timings (`timings/<batch id>.json`, written by pollBatches when it sees a batch ended)
 * and fits the learned window from them. Used by the plan activity for jobs with `window: 'learned'`, and by
 * `sluice sla --window learned`. The records hold times and counts only, never content.
 */
import { jobKeys, type BatchTiming } from '../domain/job';
import type { LearnWindowInput } from '../contracts/activities';
import { fitLatencyModel, type LatencyModel } from '../domain/latency-model';
import { mapLimit } from '../domain/map-limit';
import type { BlobStore } from './blob-store';

const READ_CONCURRENCY = 16;

export type { LearnWindowInput };

export async function readBatchTimings(store: BlobStore): Promise<BatchTiming[]> {
  const keys = await store.list(jobKeys.timings());
  const read = await mapLimit(keys, READ_CONCURRENCY, (key) => store.readJson<BatchTiming>(key));
  return read.filter((t): t is BatchTiming => t !== undefined);
}

export async function learnWindow(
  store: BlobStore,
  input: LearnWindowInput & { nowMs: number; apiTimeScale?: number },
): Promise<LatencyModel> {
  return fitLatencyModel({ ...input, timings: await readBatchTimings(store) });
}
