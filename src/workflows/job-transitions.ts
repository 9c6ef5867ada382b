/**
 * How the job's state changes when something happens (a shard taken, a batch created or collected, the job
 * canceled): pure updates of the plain state, so the workflow and the decision tests change it the same way.
 */
import { addTallies } from '../domain/cost';
import type { ShardRef } from '../domain/job';
import type { CollectResult } from '../contracts/activities';
import { settleShard } from './job-budget';
import { recordRateSample, type InFlightBatch, type JobState } from './job-state';

/** The shard leaves the queue of work to send (a retry shard first, else the cursor moves on). */
export function takeShard(s: JobState, shard: ShardRef) {
  if (s.queued[0]?.key === shard.key) s.queued.shift();
  else s.nextShard++;
}

export function countCall(s: JobState, endpoint: string, n = 1) {
  s.apiCalls[endpoint] = (s.apiCalls[endpoint] ?? 0) + n;
}

export function batchCreated(s: JobState, batch: InFlightBatch) {
  countCall(s, 'create');
  s.batchesCreated++;
  s.inFlight.push(batch);
}

/** Outcomes counted; requests to retry wait to be packed (only batches have retries: sync retries inside). */
export function applyCollected(s: JobState, r: CollectResult, batchId?: string) {
  // Packed prompts with unusable answers became their rows (sent alone): more requests to finish.
  s.requestCount += r.addedRequests ?? 0;
  s.succeeded += r.succeeded;
  s.failed += r.failed;
  s.canceled += r.canceled;
  if (r.invalidOutput) s.invalidOutput = (s.invalidOutput ?? 0) + r.invalidOutput;
  s.tally = addTallies(s.tally, r.tally);
  for (const [k, v] of Object.entries(r.reasons)) s.reasons[k] = (s.reasons[k] ?? 0) + v;
  if (r.retry > 0 && batchId) {
    s.pendingRetryBatchIds.push(batchId);
    s.pendingRetryRequests += r.retry;
    s.retried += r.retry;
  }
}

export function batchCollected(s: JobState, batchId: string, r: CollectResult) {
  const batch = s.inFlight.find((b) => b.batchId === batchId);
  if (batch) settleShard(s, batch.shardKey, r.tally.usd);
  s.inFlight = s.inFlight.filter((b) => b.batchId !== batchId);
  s.batchesCollected++;
  countCall(s, 'results');
  applyCollected(s, r, batchId);
}

/** After a poll that collected something: a rate sample for the ETA. */
export function collectedRound(s: JobState, nowMs: number) {
  recordRateSample(s, nowMs);
}

export function syncShardDone(s: JobState, shard: ShardRef, r: CollectResult) {
  countCall(s, 'messages', shard.requests);
  s.syncRequests += shard.requests;
  settleShard(s, shard.key, r.tally.usd);
  applyCollected(s, r);
}

export function retriesPacked(s: JobState, shards: ShardRef[]) {
  s.queued.push(...shards);
  s.pendingRetryBatchIds = [];
  s.pendingRetryRequests = 0;
}

/** Canceled: requests never sent, or only waiting to be retried, end as canceled in finalize. */
export function dropUnsent(s: JobState) {
  s.queued = [];
  s.pendingRetryBatchIds = [];
  s.pendingRetryRequests = 0;
  s.nextShard = s.shardSizes.length;
}
