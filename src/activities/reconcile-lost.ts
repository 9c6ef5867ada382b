/**
 * The I/O around decideReconcile (src/domain/reconcile.ts) for a submission whose last create call has no known
 * answer: list the batches that could hold it, read the claims and, for ended unclaimed ones, the wire id of their
 * first result; then carry out the decision (cancel, file for the true owner, adopt, wait, or create).
 */
import { log } from '@temporalio/activity';
import type { MessageBatch } from '@anthropic-ai/sdk/resources/messages/batches';
import { jobKeys } from '../domain/job';
import { decideReconcile, reconcileKeys, type Candidate, type SubmissionId, type SubmissionTiming } from '../domain/reconcile';
import { toApiFailure } from './api-failure';
import type { ActivityDeps } from './deps';
import { holderOf } from './batch-holder';
import type { BatchIndexEntry, SubmissionRecord } from '../domain/submission-records';

/** What a look found: the batch proven this submission's, safe to create, or look again later. */
export type ReconcileOutcome = { kind: 'adopt'; batch: MessageBatch } | { kind: 'create' } | { kind: 'wait'; retryInMs: number; why: string };

/** One look at the batches that could hold this submission's lost create, and the decision carried out. */
export async function reconcileLostCreate(
  { store, anthropic }: ActivityDeps,
  timing: SubmissionTiming,
  me: SubmissionId,
  record: SubmissionRecord,
): Promise<ReconcileOutcome> {
  const callAtMs = record.callAtMs ?? record.intentAtMs;
  const since = callAtMs - timing.skewMs;
  const batches = new Map<string, MessageBatch>();
  const candidates: Candidate[] = [];
  // The list shows the account as of some moment after it was asked for: a late answer is not a later look. Time
  // is taken before the list, so "no batch from the last call can still appear" is judged by what the list could see.
  const nowMs = Date.now();
  try {
    for await (const batch of anthropic.messages.batches.list({ limit: 1000 })) {
      const createdAtMs = Date.parse(batch.created_at);
      if (createdAtMs < since) break; // newest first: the rest are older than the call
      if (totalOf(batch) !== record.requests) continue;
      const claim = await store.readJson<BatchIndexEntry>(jobKeys.batch(batch.id));
      const ended = batch.processing_status === 'ended';
      const candidate: Candidate = {
        batchId: batch.id,
        createdAtMs,
        seenForMs: 0,
        ended,
        cancelRequested: batch.cancel_initiated_at !== null,
        ...(claim && { claim: { jobId: claim.jobId, shardKey: claim.shardKey } }),
      };
      if (!claim && ended) {
        const holds = await holderOf(anthropic, store, batch);
        if (holds) candidate.holds = holds;
      }
      batches.set(batch.id, batch);
      candidates.push(candidate);
    }
  } catch (err) {
    throw toApiFailure(err, `list batches to reconcile ${me.shardKey}`);
  }

  // The claim grace runs from when this submission first saw a batch unclaimed, on its own clock.
  const seenBefore = record.candidatesSeenAtMs ?? {};
  const seen: Record<string, number> = {};
  for (const c of candidates) {
    if (c.claim || c.holds) continue;
    const firstSeenAtMs = seenBefore[c.batchId] ?? nowMs;
    seen[c.batchId] = firstSeenAtMs;
    c.seenForMs = nowMs - firstSeenAtMs;
  }
  if (Object.keys(seen).some((id) => seenBefore[id] === undefined)) {
    await store.writeJson(jobKeys.submission(me.jobId, me.shardKey), { ...record, candidatesSeenAtMs: seen } satisfies SubmissionRecord);
  }
  const decision = decideReconcile(me, callAtMs, nowMs, candidates, timing);
  for (const { batchId, owner } of decision.fileFor) {
    const batch = batches.get(batchId)!;
    const entry: BatchIndexEntry = { ...owner, requests: totalOf(batch), createdAtMs: Date.parse(batch.created_at), provenBy: 'content' };
    if (await store.createJsonExclusive(jobKeys.batch(batchId), entry)) {
      log.warn('Filed a batch for the submission its wire ids name', { batchId, owner: `${owner.jobId}/${owner.shardKey}` });
    }
  }
  for (const batchId of decision.cancel) {
    // The marker first: whoever collects the batch treats its canceled requests as never sent to the model.
    await store.writeJson(reconcileKeys.canceledToResolve(batchId), { canceledAtMs: Date.now(), by: me });
    try {
      await anthropic.messages.batches.cancel(batchId);
    } catch (err) {
      throw toApiFailure(err, `cancel unclaimed batch ${batchId} to learn whose it is`);
    }
    log.warn('Canceled an unclaimed batch of the same size to learn whose it is', { batchId, shardKey: me.shardKey });
  }
  switch (decision.kind) {
    case 'adopt':
      return { kind: 'adopt', batch: batches.get(decision.batchId)! };
    case 'create':
      return { kind: 'create' };
    case 'wait':
      return { kind: 'wait', retryInMs: decision.retryInMs, why: `reconcile ${me.shardKey}: ${decision.why}` };
  }
}

function totalOf(batch: MessageBatch): number {
  const c = batch.request_counts;
  return c.processing + c.succeeded + c.errored + c.canceled + c.expired;
}
