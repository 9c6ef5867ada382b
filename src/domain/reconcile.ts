// Reconciliation of a submission whose create call has no known answer (the worker died, the connection broke, the
// activity timed out): pure rules, so they are tested over random interleavings without a server.
//
// The rules never guess. A batch is this submission's only when its claim (the store's batch index) or its content
// (the wire ids in its results) says so. A batch that could be ours but cannot yet tell (in progress, no claim) is
// left alone while its owner may still claim it, then canceled (canceled requests cost nothing) so that it ends and
// its results say whose it is. A new create happens only when no batch can be ours and no batch from our last call
// can still appear.
import { z } from 'zod';
import { DurationSchema } from './duration';

/** Start-to-close of the submit activity (the workflow's option): the SDK's create timeout must stay below it. */
export const SUBMIT_START_TO_CLOSE_MS = 120_000;
/** The submit activity heartbeats while its create call runs; cancellation reaches it through the heartbeat. */
export const SUBMIT_HEARTBEAT_TIMEOUT_MS = 20_000;
export const SUBMIT_HEARTBEAT_EVERY_MS = 5_000;

export const SubmissionTimingSchema = z
  .strictObject({
    /** The SDK's request timeout for create: the call is aborted before the activity's start-to-close ends. */
    createTimeoutMs: DurationSchema.default(90_000),
    /** How long after a create the list endpoint may still not show the batch. */
    listLagMs: DurationSchema.default(30_000),
    /** A healthy create writes its claim within this long of its batch appearing in the list. */
    claimGraceMs: DurationSchema.default(60_000),
    /** Clock skew allowed between workers and the API when comparing created_at to a call's start. */
    skewMs: DurationSchema.default(60_000),
    /** While a candidate is unresolved, the submission looks again after this long. */
    recheckMs: DurationSchema.default(5_000),
  })
  .refine((t) => t.createTimeoutMs < SUBMIT_START_TO_CLOSE_MS - 5_000, {
    message: `createTimeoutMs must be at least 5 s below the submit activity's start-to-close (${SUBMIT_START_TO_CLOSE_MS} ms), or a create could overlap its own retry`,
    path: ['createTimeoutMs'],
  });
export type SubmissionTimingInput = z.input<typeof SubmissionTimingSchema>;
export type SubmissionTiming = z.output<typeof SubmissionTimingSchema>;

/** A submission: one shard of one job. */
export interface SubmissionId {
  jobId: string;
  shardKey: string;
}

/** A batch from the list that could hold a lost create: same size, created after the call started (less skew). */
export interface Candidate {
  batchId: string;
  createdAtMs: number;
  /**
   * How long this submission has seen it unclaimed (its own clock, recorded across attempts). Used for the claim
   * grace instead of created_at, which comes from the API's clock.
   */
  seenForMs: number;
  ended: boolean;
  /** The store's claim, if any submission wrote one. */
  claim?: SubmissionId;
  /** What its results say (read once it ended): a submission, or 'foreign' (not a Sluice wire id). */
  holds?: SubmissionId | 'foreign';
  /** Sluice already asked the API to cancel it. */
  cancelRequested?: boolean;
}

/** Side effects that come with every decision: safe to repeat (a cancel twice, a claim written twice). */
export interface ReconcileActions {
  /** Cancel these (unclaimed, past the claim grace): they end sooner and then tell whose they are. */
  cancel: string[];
  /** Claims to write for the true owners of batches proven theirs by content. */
  fileFor: { batchId: string; owner: SubmissionId }[];
}

export type ReconcileDecision = ReconcileActions &
  (
    | { kind: 'adopt'; batchId: string; /** Write the claim first: the batch was proven ours by content. */ claim: boolean }
    | { kind: 'wait'; retryInMs: number; why: string }
    | { kind: 'create' }
  );

const same = (a: SubmissionId | undefined, b: SubmissionId) => a !== undefined && a.jobId === b.jobId && a.shardKey === b.shardKey;

/**
 * What a submission whose last create call started at `callAtMs` does now, given the candidates the list shows.
 * Candidates must already be filtered by size and by `createdAtMs >= callAtMs - skewMs`.
 */
export function decideReconcile(
  me: SubmissionId,
  callAtMs: number,
  nowMs: number,
  candidates: readonly Candidate[],
  t: SubmissionTiming,
): ReconcileDecision {
  const byAge = [...candidates].sort((a, b) => a.createdAtMs - b.createdAtMs || a.batchId.localeCompare(b.batchId));
  const actions: ReconcileActions = { cancel: [], fileFor: [] };
  let unresolved = 0;
  for (const c of byAge) {
    if (c.claim !== undefined || c.holds === 'foreign') continue; // claimed by its own record, or not Sluice's
    if (c.holds !== undefined) {
      if (!same(c.holds, me)) actions.fileFor.push({ batchId: c.batchId, owner: c.holds });
      continue;
    }
    unresolved++;
    // In progress and unclaimed: a healthy create may still write its claim; past the grace it is a lost create.
    if (!c.ended && !c.cancelRequested && c.seenForMs >= t.claimGraceMs) actions.cancel.push(c.batchId);
  }

  const claimed = byAge.find((c) => same(c.claim, me));
  if (claimed) return { kind: 'adopt', batchId: claimed.batchId, claim: false, ...actions };
  const proven = byAge.find((c) => c.claim === undefined && c.holds !== undefined && c.holds !== 'foreign' && same(c.holds, me));
  if (proven) return { kind: 'adopt', batchId: proven.batchId, claim: true, ...actions };

  if (unresolved > 0) {
    return { kind: 'wait', retryInMs: t.recheckMs, why: `${unresolved} unclaimed batches of the same size could be this submission's`, ...actions };
  }
  // Nothing seen can be ours; a batch from our call may still be created (a slow answer) or not yet be listed.
  const horizonMs = callAtMs + t.createTimeoutMs + t.listLagMs;
  if (nowMs < horizonMs) {
    const retryInMs = Math.max(1, Math.min(horizonMs - nowMs, t.recheckMs));
    return { kind: 'wait', retryInMs, why: 'a batch from the last create call may still appear in the list', ...actions };
  }
  return { kind: 'create', ...actions };
}

export const reconcileKeys = {
  /** Written before Sluice cancels an unclaimed batch to learn whose it is: its canceled requests are free retries. */
  canceledToResolve: (batchId: string) => `resolutions/${batchId}.json`,
};
