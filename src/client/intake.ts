/**
 * Typed helpers for continuous intake:
 *
 *   await enqueue({ client, store, taskQueue: 'sluice', intake: 'support' }, [
 *     { custom_id: 'ticket-123', params: {...}, tier: 'standard' },
 *   ]);
 *
 * Bodies go to the store first, then one `enqueue` update (update-with-start: the intake is created on first use)
 * carries only ids and tiers. The answer comes once the intake has durably accepted them; sending the same
 * custom_id again is answered `duplicate` and never makes a second request.
 */
import { randomUUID } from 'node:crypto';
import { QueryNotRegisteredError, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { SluiceError } from '../domain/errors';
import { intakeKeys } from '../contracts/store-keys';
import { parseConfig } from '../domain/errors';
import { IntakeOptionsSchema, TIERS, type IntakeOptionsInput, type Tier } from '../domain/intake';
import { jobKeys, type NormalizedRequest, type OutcomeLine } from '../domain/job';
import { MAX_BATCH_BODY_BYTES } from '../domain/limits';
import { validateInputLine, type JobDefaults } from '../domain/request';
import { BlobNotFoundError, type BlobStore } from '../store/blob-store';
import { outcomeIn } from '../store/outcomes';
import type { BufferLine, RequestRecord } from '../contracts/activities';
import { flushUpdate, INTAKE_HANDING_OVER, unrecordedChunksQuery } from '../contracts/messages';
import {
  enqueueUpdate,
  intakeStatusQuery,
  intakeWorkflowId,
  requestStatusQuery,
  sluiceIntake,
  type EnqueueInput,
  type EnqueueItem,
  type EnqueueResult,
  type IntakeInput,
  type RequestStatus,
} from '../workflows';
import type { IntakeStatus } from '../contracts/messages';
import { queryPatiently, type PatienceOptions } from './query-patience';
import { isRetryableUpdateError } from './update-retry';

export interface IntakeRequest {
  custom_id: string;
  params: unknown;
  tier?: Tier;
  /** Its own deadline instead of the tier's SLA: epoch ms or an ISO date. */
  deadline?: number | string;
  /** A workflow to signal (`sluiceRequestDone`) when the request is done. */
  notifyWorkflowId?: string;
}

export interface IntakeTarget {
  client: Client;
  store: BlobStore;
  /** The queue jobs run on (SLUICE_TASK_QUEUE). */
  taskQueue: string;
  /**
   * The intakes' own queue (SLUICE_INTAKE_TASK_QUEUE), served by the workers' intake worker: an intake created by
   * this call runs there and starts its sub-batches on `taskQueue`. Unset: the intake runs on `taskQueue`.
   */
  intakeTaskQueue?: string;
  intake: string;
  /** Used when the intake is created by this call. */
  options?: IntakeOptionsInput;
  defaults?: JobDefaults;
}

export type EnqueueAnswer = {
  custom_id: string;
  status: 'accepted' | 'duplicate' | 'refused' | 'invalid';
  reason?: string;
};

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export class IntakeRefusedError extends SluiceError {
  override name = 'IntakeRefusedError';
}

export async function createIntake(t: Omit<IntakeTarget, 'store' | 'defaults'>): Promise<string> {
  checkName(t.intake);
  const workflowId = intakeWorkflowId(t.intake);
  await t.client.workflow.start(sluiceIntake, {
    workflowId,
    ...startPlace(t),
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Sluice intake "${t.intake}": requests arrive over time and leave in sub-batches`,
  });
  return workflowId;
}

export async function enqueue(t: IntakeTarget, requests: IntakeRequest[]): Promise<EnqueueAnswer[]> {
  checkName(t.intake);
  const answers: EnqueueAnswer[] = [];
  const valid: NormalizedRequest[] = [];
  const items: EnqueueItem[] = [];
  for (const [n, r] of requests.entries()) {
    const refuse = (reason: string) => answers.push({ custom_id: String(r.custom_id), status: 'invalid', reason });
    if (typeof r.custom_id !== 'string') {
      refuse(`request ${n + 1}: custom_id is required (it is the idempotency key)`);
      continue;
    }
    if (r.tier !== undefined && !TIERS.includes(r.tier)) {
      refuse(`tier must be one of ${TIERS.join(', ')} (got ${JSON.stringify(r.tier)})`);
      continue;
    }
    const deadlineMs = typeof r.deadline === 'string' ? Date.parse(r.deadline) : r.deadline;
    if (deadlineMs !== undefined && !Number.isFinite(deadlineMs)) {
      refuse(`deadline is not a date (got ${JSON.stringify(r.deadline)})`);
      continue;
    }
    const v = validateInputLine(JSON.stringify({ custom_id: r.custom_id, params: r.params }), n + 1, t.defaults ?? {}, {
      maxRequestBytes: MAX_BATCH_BODY_BYTES - 64,
    });
    if (v.ok !== true) {
      refuse(
        v.ok === 'blank' ? 'empty' : v.errors.map((e) => (e.field ? `${e.field}: ${e.reason}` : e.reason)).join('; '),
      );
      continue;
    }
    valid.push({ custom_id: r.custom_id, line: n + 1, params: v.params });
    items.push({ custom_id: r.custom_id, tier: r.tier, deadlineMs, notifyWorkflowId: r.notifyWorkflowId });
  }
  if (items.length === 0) return answers;

  const segment = intakeKeys.segment(t.intake, randomUUID());
  await t.store.writeLines(
    segment,
    valid.map((r) => JSON.stringify(r)),
  );
  const result = await sendToIntake(t, { segment, items }).catch((err: unknown) => {
    // The intake refused the whole call (a full queue): say why, not just that the update failed.
    if (err instanceof WorkflowUpdateFailedError && err.cause) {
      throw new IntakeRefusedError(`intake ${t.intake}: ${err.cause.message}`, { cause: err });
    }
    throw err;
  });
  return [...answers, ...result.results];
}

/** A plain update to the running intake; update-with-start only when it does not run yet (first use). */
async function sendToIntake(t: IntakeTarget, input: EnqueueInput): Promise<EnqueueResult> {
  const workflowId = intakeWorkflowId(t.intake);
  // One id for every attempt: an update the server did take is not applied a second time.
  const updateId = randomUUID();
  let handovers = 0;
  let handoverSinceMs: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return await t.client.workflow.getHandle(workflowId).executeUpdate(enqueueUpdate, { args: [input], updateId });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) break;
      // Refused while the intake hands over to its next run (nothing written): soon there, without counting as a limit.
      if (isHandingOver(err) && Date.now() - (handoverSinceMs ??= Date.now()) < HANDOVER_PATIENCE_MS) {
        handovers++;
        attempt--;
        await new Promise((r) => setTimeout(r, Math.min(HANDOVER_RESEND_MAX_MS, 10 * 2 ** Math.min(handovers, 5))));
        continue;
      }
      // Temporal takes at most 10 updates in flight per workflow, none while a workflow task it retries is failing
      // (a worker starved or restarted mid-task), and drops the ones not yet accepted when it reloads the workflow's
      // state (a loaded server): wait a moment and try again.
      if (!isRetryableUpdateError(err) || attempt >= UPDATE_LIMIT_RETRIES) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
  return t.client.workflow.executeUpdateWithStart(enqueueUpdate, {
    args: [input],
    updateId,
    startWorkflowOperation: new WithStartWorkflowOperation(sluiceIntake, {
      workflowId,
      ...startPlace(t),
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Sluice intake "${t.intake}": requests arrive over time and leave in sub-batches`,
    }),
  });
}

/** Where a new intake runs and its input: on its own queue, it is told where its sub-batch jobs go. */
function startPlace(t: Omit<IntakeTarget, 'store' | 'defaults'>) {
  const options = parseConfig(IntakeOptionsSchema, t.options ?? {}, 'intake');
  const own = t.intakeTaskQueue && t.intakeTaskQueue !== t.taskQueue ? t.intakeTaskQueue : undefined;
  return {
    taskQueue: own ?? t.taskQueue,
    args: [{ name: t.intake, options, ...(own ? { jobTaskQueue: t.taskQueue } : {}) }] as [IntakeInput],
  };
}

const UPDATE_LIMIT_RETRIES = 20;
/** Sent again at most HANDOVER_RESEND_MAX_MS apart for up to this long: far more than a handover takes (the admissions in flight, one task), by time so a slow machine gets the same patience. */
const HANDOVER_PATIENCE_MS = 120_000;
/**
 * A handover takes 100-300 ms: resent 200 ms apart, a call waited up to 200 ms past the new run's first task. A refusal
 * costs the old run one workflow task and nothing in its history.
 */
const HANDOVER_RESEND_MAX_MS = 50;

function isHandingOver(err: unknown): boolean {
  return err instanceof WorkflowUpdateFailedError && err.cause?.message === INTAKE_HANDING_OVER;
}

/** With `patience`, asks again while no worker has answered yet (query-patience.ts), then NoWorkerAnsweredError. */
export function intakeStatus(client: Client, intake: string, patience?: PatienceOptions): Promise<IntakeStatus> {
  const workflowId = intakeWorkflowId(intake);
  const ask = () => client.workflow.getHandle(workflowId).query(intakeStatusQuery);
  return patience ? queryPatiently(client, { what: `intake ${intake}`, workflowId }, patience, ask) : ask();
}

/** Cuts everything waiting now (every tier); answers how many requests are being cut. */
export async function flushIntake(client: Client, intake: string): Promise<{ requests: number }> {
  checkName(intake);
  return client.workflow.getHandle(intakeWorkflowId(intake)).executeUpdate(flushUpdate);
}

/** Where one request is, and its outcome once its sub-batch is done. */
export async function intakeRequest(
  client: Client,
  store: BlobStore,
  intake: string,
  customId: string,
  patience?: PatienceOptions,
): Promise<RequestStatus & { outcome?: OutcomeLine }> {
  // Store-backed intakes keep a record per request; older ones answer from their workflow's memory.
  const recordKey = intakeKeys.requestRecord(intake, customId);
  const record = await store.readJson<RequestRecord>(recordKey);
  if (record) return fromRecord(store, customId, record);
  const workflowId = intakeWorkflowId(intake);
  // Admitted with deferred records, a request is only in its chunk for a second or so. Read after the chunks are
  // listed, the record catches one recorded or cut meanwhile (a cut writes the records before its chunk goes).
  const listMarked = () => client.workflow.getHandle(workflowId).query(unrecordedChunksQuery);
  const marked = await (patience ? queryPatiently(client, { what: `intake ${intake}`, workflowId }, patience, listMarked) : listMarked())
    // An older intake: every request it admitted has its record, or it answers from its memory (below).
    .catch((err: unknown) => {
      if (err instanceof QueryNotRegisteredError) return [];
      throw err;
    });
  if (marked.length > 0) {
    const line = await lineInChunks(store, marked, customId);
    if (line) return { custom_id: customId, state: 'buffered', tier: line.tier };
    const recorded = await store.readJson<RequestRecord>(recordKey);
    if (recorded) return fromRecord(store, customId, recorded);
  }
  const ask = () => client.workflow.getHandle(workflowId).query(requestStatusQuery, customId);
  const status = await (patience ? queryPatiently(client, { what: `intake ${intake}`, workflowId }, patience, ask) : ask())
    .catch((err: unknown) => {
      // A store-backed intake refuses the query (its records are all in the store): no record, never accepted.
      if (err instanceof QueryNotRegisteredError) return { custom_id: customId, state: 'unknown' as const };
      throw err;
    });
  if (status.state !== 'done' || !status.jobId) return status;
  for await (const text of store.readLines(jobKeys.output(status.jobId, 'results.jsonl'))) {
    const o = JSON.parse(text) as OutcomeLine;
    if (o.custom_id === customId) return { ...status, outcome: o };
  }
  return status;
}

async function fromRecord(store: BlobStore, customId: string, record: RequestRecord): Promise<RequestStatus & { outcome?: OutcomeLine }> {
  if (!record.jobId) return { custom_id: customId, state: 'buffered', tier: record.tier };
  const done = await store.exists(jobKeys.output(record.jobId, 'summary.json'));
  if (!done) return { custom_id: customId, state: 'in_flight', tier: record.tier, jobId: record.jobId };
  const outcome = await outcomeIn(store, record.jobId, customId);
  return { custom_id: customId, state: 'done', tier: record.tier, jobId: record.jobId, ...(outcome ? { outcome } : {}) };
}

/** The buffer line of a custom_id in one of the chunks; a chunk already cut and removed holds nothing. */
async function lineInChunks(store: BlobStore, keys: readonly string[], customId: string): Promise<BufferLine | undefined> {
  for (const key of keys) {
    try {
      for await (const text of store.readLines(key)) {
        const line = JSON.parse(text) as BufferLine;
        if (line.customId === customId) return line;
      }
    } catch (err) {
      if (!(err instanceof BlobNotFoundError)) throw err;
    }
  }
  return undefined;
}

/** Results of the intake's finished sub-batches started since a time (epoch ms), in the order they were cut. */
export async function* intakeResults(
  client: Client,
  store: BlobStore,
  intake: string,
  sinceMs = 0,
): AsyncGenerator<OutcomeLine> {
  const prefix = `${intakeWorkflowId(intake)}-`;
  const jobs: string[] = [];
  const query = `WorkflowId STARTS_WITH "${prefix}" AND StartTime >= "${new Date(sinceMs).toISOString()}"`;
  for await (const wf of client.workflow.list({ query })) {
    if (wf.status.name !== 'RUNNING') jobs.push(wf.workflowId);
  }
  for (const jobId of jobs.sort()) {
    if (!(await store.exists(jobKeys.output(jobId, 'results.jsonl')))) continue;
    for await (const text of store.readLines(jobKeys.output(jobId, 'results.jsonl')))
      yield JSON.parse(text) as OutcomeLine;
  }
}

function checkName(name: string) {
  if (!NAME.test(name)) throw new RangeError(`an intake name must match ${NAME.source} (got ${JSON.stringify(name)})`);
}
