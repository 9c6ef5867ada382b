/**
 * Small records kept for the job report (src/report): when a synchronous sub-batch ran, and when a poll first saw a
 * batch ended, both on the worker's clock. The first start and the first end are kept, so an activity that runs
 * again (after a crash) moves neither. Times only, no content.
 */
import { jobKeys, type BatchSeenEnded, type SyncTiming } from '../domain/job';
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

/** `atMs`: when the poll saw it (default now); the first record wins. */
export async function recordSeenEnded(store: BlobStore, batchId: string, atMs = Date.now()): Promise<void> {
  const seen: BatchSeenEnded = { batchId, seenEndedAtMs: atMs };
  await store.createJsonExclusive(jobKeys.seenEnded(batchId), seen);
}
