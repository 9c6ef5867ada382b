/**
 * Submit one shard as one Message Batch, at most once. Every request goes on the wire with its wire id (job tag,
 * shard, line), so a batch always tells whose requests it holds. The intent is recorded before each create call and
 * the batch id after it; an activity that runs again after a call without an answer reconciles first
 * (./reconcile-lost.ts) and creates again only when no batch can be its own.
 */
import Anthropic from '@anthropic-ai/sdk';
import { activityInfo, Context, heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { MessageBatch } from '@anthropic-ai/sdk/resources/messages/batches';
import { jobKeys, type ShardLine } from '../domain/job';
import { SUBMIT_HEARTBEAT_EVERY_MS, SUBMIT_START_TO_CLOSE_MS, SubmissionTimingSchema, type SubmissionTiming } from '../domain/reconcile';
import { callsOf, type BatchIndexEntry, type SubmissionCallClaim, type SubmissionRecord } from '../domain/submission-records';
import { encodeWireId, wireKeys, wireTag, type WireTagEntry } from '../domain/wire-id';
import { allLines, type BlobStore } from '../store/blob-store';
import { FailureType, toApiFailure } from './api-failure';
import type { ActivityDeps } from './deps';
import { reconcileLostCreate } from './reconcile-lost';
import type { SubmitInput, SubmitResult } from '../contracts/activities';

export type { BatchIndexEntry, SubmissionRecord } from '../domain/submission-records';

export function submitActivity(deps: ActivityDeps) {
  const { store, anthropicNoRetry } = deps;
  const timing = SubmissionTimingSchema.parse(deps.submission ?? {});
  /** Jobs whose wire tag this worker registered or checked: a tag entry never changes once written. */
  const tagsKnown = new Map<string, string>();
  return async function submitBatch(input: SubmitInput): Promise<SubmitResult> {
    const startedAtMs = Date.now();
    // Heartbeats from the start, not only during the call: an attempt that stops heartbeating while it reconciles is
    // timed out and the next one runs beside it (the call claims below keep the two from both creating).
    let waiting: string | undefined; // shown with the pending activity (Web UI, the chaos harness's stall report)
    const beat = setInterval(() => heartbeat({ submitting: input.shardKey, ...(waiting && { waiting }) }), SUBMIT_HEARTBEAT_EVERY_MS);
    try {
      // While a lost create is unresolved, look again within this attempt: every attempt Temporal makes counts against
      // the retry policy's bound, and a look-alike that stays `canceling` for minutes would use them all up.
      for (;;) {
        const r = await submitOnce(input);
        if (!('lookAgainInMs' in r)) return r;
        if (Date.now() + r.lookAgainInMs > startedAtMs + lookWithinAttemptMs(timing)) {
          throw ApplicationFailure.create({ message: `${r.why}; looking again`, type: FailureType.ApiRetryable, nextRetryDelay: `${r.lookAgainInMs} ms` });
        }
        waiting = r.why;
        await Context.current().sleep(r.lookAgainInMs); // a cancel of the activity ends the wait
      }
    } finally {
      clearInterval(beat);
    }
  };

  /** Reads the record, reconciles a call without an answer, creates when safe: once, or says when to look again. */
  async function submitOnce({ jobId, shardKey }: SubmitInput): Promise<SubmitResult | LookAgain> {
    const recordKey = jobKeys.submission(jobId, shardKey);
    const stored = await store.readJson<SubmissionRecord>(recordKey);
    if (stored?.batchId) {
      return { batchId: stored.batchId, requests: stored.requests, reconciled: false, createdAtMs: stored.createdAtMs ?? 0 };
    }
    // Params were checked against the Messages API schema before the job started (domain/request-params.ts).
    const tag = tagsKnown.get(jobId) ?? (await registerWireTag(store, jobId));
    if (tagsKnown.size >= 10_000) tagsKnown.clear(); // bounded: a long-lived worker sees many jobs
    tagsKnown.set(jobId, tag);
    const requests: Anthropic.Messages.Batches.BatchCreateParams.Request[] = [];
    // Read whole: an await per line made about five promises per request, each seen by Temporal's promise hooks.
    for (const text of await allLines(store, jobKeys.shard(jobId, shardKey))) {
      const line = JSON.parse(text) as ShardLine;
      requests.push({ custom_id: encodeWireId(tag, shardKey, requests.length), params: line.params as Anthropic.MessageCreateParamsNonStreaming });
    }
    const record = await withLaterCalls(store, jobId, shardKey, requests.length, stored);

    if (record && !record.refused) {
      // An earlier call has no known answer: it may have created the batch.
      const found = await reconcileLostCreate(deps, timing, { jobId, shardKey }, record);
      if (found.kind === 'wait') return { lookAgainInMs: found.retryInMs, why: found.why };
      if (found.kind === 'adopt') {
        log.warn('Reconciled a submission whose create had no answer', { jobId, shardKey, batchId: found.batch.id });
        deps.metrics?.batchCreated();
        return recordBatch(store, jobId, record, found.batch, true);
      }
    }
    // Claim the call first: of two attempts that both found no batch of theirs, only one calls; the other looks again.
    const calls = callsOf(record) + 1;
    const callAtMs = Date.now();
    const claim: SubmissionCallClaim = { callAtMs, attempt: activityInfo().attempt };
    if (!(await store.createJsonExclusive(jobKeys.submissionCall(jobId, shardKey, calls), claim))) {
      return { lookAgainInMs: timing.recheckMs, why: `submit ${shardKey}: another attempt made create call ${calls} meanwhile` };
    }
    // The claim is the intent: no record is written before the call. A later attempt reads this claim as the last
    // call (withLaterCalls) exactly as it would have read the record (docs/never-pay-twice.md).
    const intent: SubmissionRecord = { shardKey, requests: requests.length, intentAtMs: record?.intentAtMs ?? callAtMs, callAtMs, calls };
    let batch: MessageBatch;
    try {
      // A cancel (or a lost worker) reaches the activity through the heartbeats, and the call is aborted.
      batch = await anthropicNoRetry.messages.batches.create(
        { requests },
        { timeout: timing.createTimeoutMs, signal: Context.current().cancellationSignal },
      );
    } catch (err) {
      // An answer that refuses the call (4xx, 529) means no batch was made: forget the call, so the next attempt
      // creates at once instead of waiting for a batch that cannot appear.
      if (refusedBeforeCreate(err)) await store.writeJson(recordKey, { ...intent, callAtMs: undefined, refused: true });
      throw toApiFailure(err, `create batch for ${shardKey} (attempt ${activityInfo().attempt})`);
    }
    deps.metrics?.batchCreated();
    return recordBatch(store, jobId, intent, batch, false);
  }
}

/** Said by one look that found a lost create unresolved (or another attempt's call just claimed). */
interface LookAgain {
  lookAgainInMs: number;
  why: string;
}

/**
 * How long one attempt keeps looking: it leaves a create call that follows its full SDK timeout before the
 * start-to-close (a create that still ran past it would be fenced by its call claim, not sent twice).
 */
function lookWithinAttemptMs(timing: SubmissionTiming): number {
  return Math.max(0, SUBMIT_START_TO_CLOSE_MS - timing.createTimeoutMs - 10_000);
}

/**
 * The record as of the last claimed call. The record is written only after a call's answer (or a look), so a claim
 * beyond it is the last call, whose batch may appear: its answer was lost, its attempt died, or it still runs. The
 * record is then what an intent written before that call said (records of older Sluice, which wrote one, read the
 * same): the first call's start, the last one's, the count, and nothing of the calls before (refused, candidates).
 */
async function withLaterCalls(
  store: BlobStore,
  jobId: string,
  shardKey: string,
  requests: number,
  record: SubmissionRecord | undefined,
): Promise<SubmissionRecord | undefined> {
  let calls = callsOf(record);
  let first: SubmissionCallClaim | undefined;
  let last: SubmissionCallClaim | undefined;
  for (;;) {
    const next = await store.readJson<SubmissionCallClaim>(jobKeys.submissionCall(jobId, shardKey, calls + 1));
    if (!next) break;
    first ??= next;
    last = next;
    calls++;
  }
  if (!first || !last) return record;
  return { shardKey, requests, intentAtMs: record?.intentAtMs ?? first.callAtMs, callAtMs: last.callAtMs, calls };
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
    ...(intent.calls !== undefined && { calls: intent.calls }),
    batchId: batch.id,
    createdAtMs,
    reconciled,
  } satisfies SubmissionRecord);
  return { batchId: batch.id, requests: intent.requests, reconciled, createdAtMs };
}
