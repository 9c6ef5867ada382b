/**
 * Submit one shard as one Message Batch, at most once. Every request goes on the wire with its wire id (job tag,
 * shard, line), so a batch always tells whose requests it holds. The intent is recorded before each create call and
 * the batch id after it; an activity that runs again after a call without an answer reconciles first
 * (./reconcile-lost.ts) and creates again only when no batch can be its own.
 */
import Anthropic from '@anthropic-ai/sdk';
import { activityInfo, Context, heartbeat, log } from '@temporalio/activity';
import type { MessageBatch } from '@anthropic-ai/sdk/resources/messages/batches';
import { jobKeys, type ShardLine } from '../domain/job';
import { SUBMIT_HEARTBEAT_EVERY_MS, SubmissionTimingSchema } from '../domain/reconcile';
import type { BatchIndexEntry, SubmissionRecord } from '../domain/submission-records';
import { encodeWireId, wireKeys, wireTag, type WireTagEntry } from '../domain/wire-id';
import type { BlobStore } from '../store/blob-store';
import { toApiFailure } from './api-failure';
import type { ActivityDeps } from './deps';
import { reconcileLostCreate } from './reconcile-lost';
import type { SubmitInput, SubmitResult } from '../contracts/activities';

export type { BatchIndexEntry, SubmissionRecord } from '../domain/submission-records';

export function submitActivity(deps: ActivityDeps) {
  const { store, anthropicNoRetry } = deps;
  const timing = SubmissionTimingSchema.parse(deps.submission ?? {});
  /** Jobs whose wire tag this worker registered or checked: a tag entry never changes once written. */
  const tagsKnown = new Map<string, string>();
  return async function submitBatch({ jobId, shardKey }: SubmitInput): Promise<SubmitResult> {
    const recordKey = jobKeys.submission(jobId, shardKey);
    const record = await store.readJson<SubmissionRecord>(recordKey);
    if (record?.batchId) {
      return { batchId: record.batchId, requests: record.requests, reconciled: false, createdAtMs: record.createdAtMs ?? 0 };
    }

    // Params were checked against the Messages API schema before the job started (domain/request-params.ts).
    const tag = tagsKnown.get(jobId) ?? (await registerWireTag(store, jobId));
    if (tagsKnown.size >= 10_000) tagsKnown.clear(); // bounded: a long-lived worker sees many jobs
    tagsKnown.set(jobId, tag);
    const requests: Anthropic.Messages.Batches.BatchCreateParams.Request[] = [];
    for await (const text of store.readLines(jobKeys.shard(jobId, shardKey))) {
      const line = JSON.parse(text) as ShardLine;
      requests.push({ custom_id: encodeWireId(tag, shardKey, requests.length), params: line.params as Anthropic.MessageCreateParamsNonStreaming });
    }

    if (record && !record.refused) {
      // An earlier call has no known answer: it may have created the batch. Throws (retryably) while unresolved.
      const found = await reconcileLostCreate(deps, timing, { jobId, shardKey }, record);
      if (found) {
        log.warn('Reconciled a submission whose create had no answer', { jobId, shardKey, batchId: found.batch.id });
        deps.metrics?.batchCreated();
        return recordBatch(store, jobId, record, found.batch, true);
      }
    }

    const intent: SubmissionRecord = { shardKey, requests: requests.length, intentAtMs: record?.intentAtMs ?? Date.now(), callAtMs: Date.now() };
    await store.writeJson(recordKey, intent);
    let batch: MessageBatch;
    // Heartbeats while the call runs: a cancel (or a lost worker) reaches the activity, and the call is aborted.
    const beat = setInterval(() => heartbeat({ creating: shardKey }), SUBMIT_HEARTBEAT_EVERY_MS);
    try {
      batch = await anthropicNoRetry.messages.batches.create(
        { requests },
        { timeout: timing.createTimeoutMs, signal: Context.current().cancellationSignal },
      );
    } catch (err) {
      // An answer that refuses the call (4xx, 529) means no batch was made: forget the call, so the next attempt
      // creates at once instead of waiting for a batch that cannot appear.
      if (refusedBeforeCreate(err)) await store.writeJson(recordKey, { ...intent, callAtMs: undefined, refused: true });
      throw toApiFailure(err, `create batch for ${shardKey} (attempt ${activityInfo().attempt})`);
    } finally {
      clearInterval(beat);
    }
    deps.metrics?.batchCreated();
    return recordBatch(store, jobId, intent, batch, false);
  };
}

/** The job's tag in the account-wide tag index, so any batch's wire ids lead back to the job. */
async function registerWireTag(store: BlobStore, jobId: string): Promise<string> {
  const tag = wireTag(jobId);
  if (!(await store.createJsonExclusive(wireKeys.tag(tag), { jobId } satisfies WireTagEntry))) {
    const entry = await store.readJson<WireTagEntry>(wireKeys.tag(tag));
    if (entry && entry.jobId !== jobId) {
      throw new Error(`Job ${jobId} has the same wire tag ${tag} as job ${entry.jobId}: refusing to send requests that could not be told apart`);
    }
  }
  return tag;
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
  const entry: BatchIndexEntry = { jobId, shardKey: intent.shardKey, requests: intent.requests, createdAtMs, provenBy: 'record' };
  // The index entry is the claim: a reconciling submission never adopts a batch another one recorded.
  if (!(await store.createJsonExclusive(jobKeys.batch(batch.id), entry))) {
    const owner = await store.readJson<BatchIndexEntry>(jobKeys.batch(batch.id));
    if (owner && (owner.jobId !== jobId || owner.shardKey !== intent.shardKey)) {
      throw new Error(`Batch ${batch.id} is already recorded for ${owner.jobId}/${owner.shardKey}`);
    }
  }
  await store.writeJson(jobKeys.submission(jobId, intent.shardKey), {
    shardKey: intent.shardKey,
    requests: intent.requests,
    intentAtMs: intent.intentAtMs,
    callAtMs: intent.callAtMs,
    batchId: batch.id,
    createdAtMs,
    reconciled,
  } satisfies SubmissionRecord);
  return { batchId: batch.id, requests: intent.requests, reconciled, createdAtMs };
}
