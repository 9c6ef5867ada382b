/**
 * Submit one shard as one Message Batch, at most once. The intent is recorded before the create call and the
 * batch id after it; an activity that runs again after dying mid-call first looks for the batch it may have
 * created (through the list endpoint) instead of paying for a second one.
 */
import Anthropic from '@anthropic-ai/sdk';
import { activityInfo, log } from '@temporalio/activity';
import type { MessageBatch } from '@anthropic-ai/sdk/resources/messages/batches';
import { jobKeys, type ShardLine } from '../domain/job';
import { recordBatchCreated } from '../metrics';
import type { BlobStore } from '../store/blob-store';
import { toApiFailure } from './api-failure';
import type { ActivityDeps } from './deps';
import type { SubmitInput, SubmitResult } from '../contracts/activities';

/** The store's record of one submission. */
export interface SubmissionRecord {
  shardKey: string;
  requests: number;
  intentAtMs: number;
  batchId?: string;
  createdAtMs?: number;
  reconciled?: boolean;
}

/** What the account-wide batch index says about a batch Sluice created. */
export interface BatchIndexEntry {
  jobId: string;
  shardKey: string;
  requests: number;
  createdAtMs: number;
}

/** Clock skew allowed between this worker and the API when matching created_at to an intent. */
const RECONCILE_SKEW_MS = 60_000;

export function submitActivity({ store, anthropic, anthropicNoRetry }: ActivityDeps) {
  return async function submitBatch({ jobId, shardKey }: SubmitInput): Promise<SubmitResult> {
    const recordKey = jobKeys.submission(jobId, shardKey);
    const record = await store.readJson<SubmissionRecord>(recordKey);
    if (record?.batchId) {
      return { batchId: record.batchId, requests: record.requests, reconciled: false, createdAtMs: record.createdAtMs ?? 0 };
    }

    const requests: { custom_id: string; params: ShardLine['params'] }[] = [];
    for await (const text of store.readLines(jobKeys.shard(jobId, shardKey))) {
      const line = JSON.parse(text) as ShardLine;
      requests.push({ custom_id: line.custom_id, params: line.params });
    }

    if (record) {
      // An earlier attempt recorded its intent and never its result: it may have created the batch.
      const found = await findUnrecordedBatch(anthropic, store, jobId, record);
      if (found) {
        log.warn('Reconciled a submission that died mid-call', { jobId, shardKey, batchId: found.id });
        return recordBatch(store, jobId, record, found, true);
      }
    }

    const intent: SubmissionRecord = { shardKey, requests: requests.length, intentAtMs: Date.now() };
    await store.writeJson(recordKey, intent);
    let batch: MessageBatch;
    try {
      batch = await anthropicNoRetry.messages.batches.create({ requests });
    } catch (err) {
      // An answer that refuses the call (4xx, 529) means no batch was made: forget the intent, or the next attempt
      // would reconcile and could adopt another submission's lost batch of the same size (batches carry no metadata).
      if (refusedBeforeCreate(err)) await store.delete(recordKey);
      throw toApiFailure(err, `create batch for ${shardKey} (attempt ${activityInfo().attempt})`);
    }
    return recordBatch(store, jobId, intent, batch, false);
  };
}

/** The API answered and refused: nothing was created. No answer, or a 5xx other than 529, may hide a created batch. */
function refusedBeforeCreate(err: unknown): boolean {
  const status = err instanceof Anthropic.APIError ? (err.status as number | undefined) : undefined;
  return status !== undefined && (status < 500 || status === 529);
}

async function recordBatch(
  store: BlobStore,
  jobId: string,
  intent: SubmissionRecord,
  batch: MessageBatch,
  reconciled: boolean,
): Promise<SubmitResult> {
  const createdAtMs = Date.parse(batch.created_at);
  const entry: BatchIndexEntry = { jobId, shardKey: intent.shardKey, requests: intent.requests, createdAtMs };
  // The index entry is the claim: a reconciling submission never adopts a batch another one recorded.
  if (!(await store.createJsonExclusive(jobKeys.batch(batch.id), entry))) {
    const owner = await store.readJson<BatchIndexEntry>(jobKeys.batch(batch.id));
    if (owner && (owner.jobId !== jobId || owner.shardKey !== intent.shardKey)) {
      throw new Error(`Batch ${batch.id} is already recorded for ${owner.jobId}/${owner.shardKey}`);
    }
  }
  await store.writeJson(jobKeys.submission(jobId, intent.shardKey), {
    ...intent,
    batchId: batch.id,
    createdAtMs,
    reconciled,
  } satisfies SubmissionRecord);
  recordBatchCreated(); // metrics (src/metrics.ts)
  return { batchId: batch.id, requests: intent.requests, reconciled, createdAtMs };
}

/**
 * Batches carry no metadata, so a lost create is recognised by time and size: created after the intent (less
 * skew), holding the same number of requests, and not claimed by any submission Sluice recorded. Newest first,
 * so the page walk stops at the first batch older than the intent.
 */
async function findUnrecordedBatch(
  anthropic: ActivityDeps['anthropic'],
  store: BlobStore,
  jobId: string,
  record: SubmissionRecord,
): Promise<MessageBatch | undefined> {
  const candidates: MessageBatch[] = [];
  const since = record.intentAtMs - RECONCILE_SKEW_MS;
  try {
    for await (const batch of anthropic.messages.batches.list({ limit: 1000 })) {
      if (Date.parse(batch.created_at) < since) break;
      const c = batch.request_counts;
      const total = c.processing + c.succeeded + c.errored + c.canceled + c.expired;
      if (total !== record.requests) continue;
      const claim = await store.readJson<BatchIndexEntry>(jobKeys.batch(batch.id));
      // Claimed by this very submission, which died before recording it: it is ours.
      if (claim?.jobId === jobId && claim.shardKey === record.shardKey) return batch;
      if (claim) continue;
      candidates.push(batch);
    }
  } catch (err) {
    throw toApiFailure(err, `list batches to reconcile ${record.shardKey}`);
  }
  // Closest to the intent first: with two lost creates of equal size, each takes the earlier one it can claim.
  candidates.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  if (candidates.length > 1) {
    log.warn('Several unrecorded batches match a lost submission; adopting the earliest', {
      shardKey: record.shardKey,
      candidates: candidates.length,
    });
  }
  return candidates[0];
}
