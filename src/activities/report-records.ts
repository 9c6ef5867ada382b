/**
 * Small records kept for the job report (src/report): when a synchronous sub-batch ran, and when a poll first saw a
 * batch ended (in its timing record), both on the worker's clock. The first start and the first end are kept, so an activity that runs
 * again (after a crash) moves neither. Times only, no content.
 */
import { jobKeys, type BatchTiming, type SyncTiming } from '../domain/job';
import type { BlobStore } from '../store/blob-store';

export async function recordSyncStarted(
  store: BlobStore,
  jobId: string,
  shardKey: string,
  requests: number,
): Promise<void> {
  const timing: SyncTiming = { shardKey, requests, startedAtMs: Date.now() };
  await store.createJsonExclusive(jobKeys.syncTiming(jobId, shardKey), timing);
}

export async function recordSyncEnded(
  store: BlobStore,
  jobId: string,
  shardKey: string,
  requests: number,
): Promise<void> {
  const key = jobKeys.syncTiming(jobId, shardKey);
  const now = Date.now();
  const started = (await store.readJson<SyncTiming>(key)) ?? { shardKey, requests, startedAtMs: now };
  if (started.endedAtMs !== undefined) return;
  await store.writeJson(key, { ...started, endedAtMs: now } satisfies SyncTiming);
}

/**
 * An ended batch's timing record (timings/<id>.json), written once: an ended batch's times and counts never change,
 * so the first poll to see it end writes it and its seenAtMs is when Sluice first saw it ended (the report's
 * timeline reads it there). Before, each sighting rewrote the timing and a second record (seen-ended/<id>.json) kept
 * the first sighting: two writes per ended batch, a thousand ended batches in one walk of the account's poller.
 * Records of both kinds from older Sluice are still read (src/domain/report-data.ts).
 */
export async function recordBatchEnded(store: BlobStore, timing: BatchTiming): Promise<void> {
  await store.createJsonExclusive(jobKeys.timing(timing.batchId), timing);
}
