/**
 * The messages of Sluice's workflows, declared once: every signal, query and update, their payloads, the views
 * queries answer, and the results clients read. Workflows set the handlers; the client, the CLI and activities
 * send and read through these definitions. The string in each definition is a wire name that runs in flight
 * know: never rename one, add a new message beside the old instead.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AuditSnapshot,
  BudgetView,
  EndedBatch,
  JobPhase,
  JobProgress,
  ReconcileResult,
  RoomRequest,
  SlaView,
  WatchBatchesInput,
} from './activities';

export type { RoomRequest };
import type { Tier } from '../domain/intake';
import type { QueueCapacity, QueueMember, Room } from '../domain/queue';

// The job

export type { BudgetView, JobPhase, JobProgress, SlaView };

export const cancelSignal = defineSignal('cancel');

export const progressQuery = defineQuery<JobProgress>('progress');

export const setPrioritySignal = defineSignal<[{ priority: number }]>('setPriority');

export const pauseSignal = defineSignal('pause');

export const resumeSignal = defineSignal('resume');

/** A job's new budget in USD (`sluice budget JOB USD`); refused below what is spent and reserved, or without a budget. */
export const setBudgetUpdate = defineUpdate<BudgetView, [{ budgetUsd: number }]>('setBudget');

// The scheduler of an API key (the account's shared batch queue)

export const requestRoomSignal = defineSignal<[RoomRequest]>('requestRoom');

export const releaseRoomSignal = defineSignal<[{ jobId: string; room: Room }]>('releaseRoom');

export const leaveQueueSignal = defineSignal<[{ jobId: string }]>('leaveQueue');

export const queueQuery = defineQuery<QueueView>('queue');

/** Sent by the scheduler to jobs; `seq` (to members that refresh) counts the grants sent to that job. */
export const grantRoomSignal = defineSignal<[{ room: Room; seq?: number }]>('grantRoom');

export const preemptSignal = defineSignal<[{ by: string; cancelRequests: number }]>('preempt');

export interface QueueView {
  capacity: QueueCapacity;
  free: Room;
  /** A scheduler started again after it was lost grants nothing until then, while the jobs' refreshes come in. */
  rebuildingUntilMs?: number;
  jobs: (QueueMember & { state: 'holding' | 'waiting' | 'preempted' | 'paused' | 'idle' })[];
}

// The poller of an account: one per namespace and API key (src/workflows/poller.ts)

/** Sent by a job's watchBatches activity (signal-with-start): the whole set it has in flight. */
export const watchBatchesSignal = defineSignal<[WatchBatchesInput]>('watchBatches');

/** Sent by the poller to a job: which of its batches ended (with the results URL), and when the list was walked. */
export interface BatchesEndedReport {
  ended: EndedBatch[];
  walkedAtMs: number;
}

export const batchesEndedSignal = defineSignal<[BatchesEndedReport]>('batchesEnded');

export interface PollerStats {
  /** Walks of the batch list, and the API calls they made (list pages, rare retrieves). */
  walks: number;
  calls: number;
  /** The most calls one walk made. */
  maxCallsPerWalk: number;
  /** Most batches watched in one walk. */
  maxWatched: number;
  /** Reports sent to jobs. */
  reports: number;
}

export interface PollerView {
  stats: PollerStats;
  jobs: { jobId: string; batches: number; intervalMs: number; dueAtMs: number }[];
}

export const pollerQuery = defineQuery<PollerView>('poller');

// An intake

export interface EnqueueItem {
  custom_id: string;
  tier?: Tier;
  /** Its own deadline (epoch ms) instead of the tier's SLA. */
  deadlineMs?: number;
  /** A workflow to signal (requestDoneSignal) when this request has its final outcome. */
  notifyWorkflowId?: string;
}

export interface EnqueueInput {
  /** Store key of the segment the client wrote with these requests' bodies. */
  segment: string;
  items: EnqueueItem[];
}

export type EnqueueStatus = 'accepted' | 'duplicate' | 'refused';

export interface EnqueueResult {
  results: { custom_id: string; status: EnqueueStatus; reason?: string }[];
}

export interface RequestStatus {
  custom_id: string;
  state: 'buffered' | 'in_flight' | 'done' | 'unknown';
  tier?: Tier;
  jobId?: string;
}

export const enqueueUpdate = defineUpdate<EnqueueResult, [EnqueueInput]>('enqueue');
/**
 * An enqueue refused by the validator while the intake hands over to its next run (nothing was written): the client
 * sends it again at once, and it lands on the new run.
 */
export const INTAKE_HANDING_OVER = 'the intake is continuing as new: send the enqueue again';

export const intakeStatusQuery = defineQuery<IntakeStatus>('intakeStatus');

export const requestStatusQuery = defineQuery<RequestStatus, [string]>('requestStatus');

/**
 * A store-backed intake's chunks whose requests may have no per-id record yet (deferred records): intakeRequest looks
 * an id without a record up in them, so a request just enqueued reads `buffered`, not `unknown`.
 */
export const unrecordedChunksQuery = defineQuery<string[]>('unrecordedChunks');

/** Cut every waiting request now, whatever its tier and however few; answers how many were cut (or will be). */
export const flushUpdate = defineUpdate<{ requests: number }, []>('flush');

/** A sub-batch job of an intake tells it that it ended (its summary is written); polling is the fallback. */
export const subBatchDoneSignal = defineSignal<[{ jobId: string }]>('subBatchDone');

/**
 * The same report as an update, sent by the job's reportJobEnded activity (jobs with patch job-end-by-update). A
 * signal that arrives while the intake's continue-as-new task runs fails that task and costs a full replay; an update
 * that arrives then is handed to the next run by the server.
 */
export const subBatchDoneUpdate = defineUpdate<void, [{ jobId: string }]>('subBatchDone');

/** Sent to a workflow that asked to be told when its request is done. */
export const requestDoneSignal =
  defineSignal<[{ intake: string; custom_id: string; status: string; jobId: string }]>('sluiceRequestDone');

export interface IntakeCounters {
  enqueued: number;
  duplicates: number;
  refusedFull: number;
  cutRequests: number;
  /** Sub-batches of the coalesced tiers (standard, bulk) and the requests in them: the fill rate. */
  coalescedCuts: number;
  coalescedRequests: number;
  succeeded: number;
  failed: number;
  other: number;
  costUsd: number;
}

/** What the `intakeStatus` query answers and the Web UI shows. */
export interface IntakeStatus {
  name: string;
  depthByTier: Record<Tier, number>;
  oldestWaitMs: number;
  nextCutInMs?: number;
  jobsInFlight: number;
  requestsInFlight: number;
  /** Average share of a full sub-batch in the standard and bulk cuts so far (urgent requests never wait). */
  fillRate: number;
  requestsPerMinute: number;
  costPerRequestUsd: number;
  counters: IntakeCounters;
  cuts: number;
  run: number;
  /** Why the next cut of each waiting tier waits (absent from intakes started before it existed). */
  waits?: TierWait[];
  /** Requests per sub-batch. */
  batchSize?: number;
  /** Sub-batches in the jobs cut so far (a cut's job holds several; absent before intake-cut-many). */
  subBatches?: number;
  /** Requests one cut's job holds at most, and how long a tier holding a sub-batch gathers before its cut. */
  maxCutRequests?: number;
  cutGatherMs?: number;
  /** Jobs in flight and the most allowed: at the limit, cuts wait for room. */
  maxJobsInFlight?: number;
}

export interface TierWait {
  tier: Tier;
  waiting: number;
  /** When the cut comes at the latest (the latest safe submission less the cut lead, or sooner once gathered). */
  cutAtMs: number;
  /** The latest submission that still meets the earliest deadline. */
  latestSafeMs: number;
}

// An audit

export type AuditPhase = 'snapshot' | 'job' | 'reconcile' | 'done' | 'failed';

/** What the audit keeps of its job's summary (its full summary.json is in the store). */
export interface AuditJobOutcome {
  jobId: string;
  requests: number;
  succeeded: number;
  failed: number;
  canceled: number;
  notRun: number;
  costUsd: number;
  savedUsd: number;
  batchesCreated: number;
  wallTimeMs: number;
}

export interface AuditState {
  phase: AuditPhase;
  schedule: string;
  input: string;
  scheduledAt: string;
  jobId: string;
  snapshot?: AuditSnapshot;
  job?: AuditJobOutcome;
  /** Why the night did not go as planned (no input, the job failed); the audit fails after reconciling. */
  problem?: string;
  reconcile?: ReconcileResult;
}

export const auditStatusQuery = defineQuery<AuditState>('auditStatus');

export interface AuditResult {
  schedule: string;
  scheduledAt: string;
  jobId: string;
  snapshot?: AuditSnapshot;
  job?: AuditJobOutcome;
  reconcile: ReconcileResult;
}
