/**
 * What crosses the boundary between workflows and activities: every activity's input and output, and the
 * activity interface the workflows proxy. Declared once, here, below both sides: workflows, client, CLI and
 * metrics import these types from this file, never from src/activities/. Plain JSON only (no Map, Set, Date).
 */
import type { CanaryReport } from '../domain/canary';
import type { CostTally } from '../domain/cost';
import type { JobSpec, OutcomeStatus, OutputCheckOptions, ShardRef } from '../domain/job';
import type { ReconcileOptions } from '../domain/audit';
import type { Room } from '../domain/queue';
import type { JobDefaults } from '../domain/request';
import type { LatencyModel, LearnedWindowOptionsInput } from '../domain/latency-model';
import type { IntakeOptions, Tier } from '../domain/intake';
import type { PollOptions } from '../domain/poll';
import type { BatchTiming } from '../domain/batch-timing';

// plan
export interface LearnWindowInput {
  /** The fixed window W: the fallback and the cap. */
  fixedWindowMs: number;
  options?: LearnedWindowOptionsInput;
}

export interface PlanInput {
  jobId: string;
  inputKey: string;
  batchSize: number;
  /** The first shard's size when it differs (a canary of N requests); the rest have batchSize. */
  firstShardSize?: number;
  /**
   * Only with --cache-prefix: mark each request's longest leading blocks that enough requests share with
   * cache_control of this lifetime (docs/prompt-cache.md).
   */
  cachePrefix?: { ttl: '5m' | '1h' };
  /** Only for jobs with `window: 'learned'`: fit the window from the account's batch timings. */
  learnWindow?: LearnWindowInput;
  /** Only for jobs with a budget: price each request's worst case and each shard's (shardWorstUsd). */
  priceWorstCase?: boolean;
}

export interface PlanResult {
  requestCount: number;
  /** Requests in each original shard, in input order; shard i has key originalShardKey(i). */
  shardSizes: number[];
  /** The learned window model (numbers only), when the input asked for one. */
  window?: LatencyModel;
  /** Worst-case USD of each original shard at batch prices, when the input asked (priceWorstCase). */
  shardWorstUsd?: number[];
  /**
   * Present when the shards were cut by prompt-cache group (some request carries cache_control, or --cache-prefix):
   * shards then do not follow input order, and outcomes are filed under input-order segments of batchSize requests
   * (jobKeys.orderSegment), this many.
   */
  orderSegments?: number;
  /** Distinct cached prefixes the requests were grouped by (requests without one are not counted). */
  cacheGroups?: number;
  /** Requests --cache-prefix marked. */
  cacheMarked?: number;
}

// submit
export interface SubmitInput {
  jobId: string;
  shardKey: string;
}

export interface SubmitResult {
  batchId: string;
  requests: number;
  /** True when the batch was found through reconciliation rather than created by this call. */
  reconciled: boolean;
  createdAtMs: number;
}

// poll
export interface PollInput {
  batches: { batchId: string; submittedAtMs: number }[];
  /** Use the list endpoint when more batches than this are in flight. */
  listThreshold: number;
  /** Whether the job's deadline is at risk now, for the sluice_sla_at_risk_jobs gauge; unset when it has none. */
  slaAtRisk?: boolean;
}

export interface RequestCounts {
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

export interface PollResult {
  ended: { batchId: string; counts: RequestCounts; resultsUrl?: string }[];
  /** Ids of batches that are canceling. */
  canceling: string[];
  /** Sum of request counts over the batches not yet ended. */
  open: RequestCounts;
  calls: number;
}

// account poll (one walk of the batch list per tick for every job of the namespace and API key)
export interface WatchedBatch {
  batchId: string;
  /** The batch's created_at (API clock), where the walk may stop. */
  submittedAtMs: number;
}

/** A job's whole set of batches in flight (not a delta: sending it twice changes nothing), with its poll cadence. */
export interface WatchBatchesInput {
  jobId: string;
  batches: WatchedBatch[];
  poll: PollOptions;
  /** Whether the job's deadline is at risk, for the at-risk gauge (its poll said so before); unset: no SLA. */
  slaAtRisk?: boolean;
}

/** Which poller now watches the job's batches; absent when the worker's configuration turns the account poll off. */
export interface WatchBatchesResult {
  pollerId?: string;
}

export interface EndedBatch {
  batchId: string;
  resultsUrl?: string;
}

export interface WalkBatchesInput {
  watched: WatchedBatch[];
  /**
   * Hand the records of ended batches back (`timings`) for `recordEndedBatches`, instead of writing them during the
   * walk, which holds the poller (pollers patched 'poller-records-outside-walk'). Unset: written by the walk.
   */
  recordsOutside?: boolean;
}

export interface WalkBatchesResult {
  ended: EndedBatch[];
  /** API calls the walk made: list pages, plus a retrieve for a batch the list should have shown but did not. */
  calls: number;
  /** With `recordsOutside`: what to record of each ended batch (ids, counts and times; no content). */
  timings?: BatchTiming[];
}

/** The poller's records of batches a walk saw ended: `timings/<id>.json` and `seen-ended/<id>.json`. */
export interface RecordEndedInput {
  /** Each with `seenAtMs`, the walk's time: the seen-ended record says when the walk saw it, not when it is written. */
  timings: BatchTiming[];
}

// collect
export interface CollectInput {
  jobId: string;
  batchId: string;
  /** From the poll that saw the batch end; saves a retrieve. */
  resultsUrl?: string;
  shardKey: string;
  maxAttempts: number;
  jobCanceled: boolean;
  /**
   * Sluice canceled this batch itself to make room for more urgent work: its canceled requests were never sent to
   * the model, cost nothing, and go back to the queue without using up an attempt.
   */
  freeCancel?: boolean;
  /** Check every answer (the schema, if any, is read from the store): failures are retried, then invalid_output. */
  outputCheck?: OutputCheckOptions;
  /**
   * This batch is the job's canary: if more than maxFailurePercent of it failed, its failures are final (reported,
   * not retried) and the result says the canary stopped the job.
   */
  canary?: { maxFailurePercent: number };
}

export interface CollectResult {
  succeeded: number;
  failed: number;
  canceled: number;
  /** Requests filed for another attempt under jobKeys.retries(jobId, batchId). */
  retry: number;
  tally: CostTally;
  /** Why requests failed or were retried, by error type (counts only). */
  reasons: Record<string, number>;
  /** Answers that failed the output check on their last attempt (absent: none, or no check). */
  invalidOutput?: number;
  /** For the canary batch: how many of its requests failed, and whether that stops the job. */
  canary?: { requests: number; failed: number; stopped: boolean };
  /**
   * Packed requests whose answer was unusable become their rows, sent alone: the job has this many more requests
   * than before (each such pack counts as its N rows from now on, so N − 1 more). Absent: none.
   */
  addedRequests?: number;
}

/**
 * The batches of one round that ended together, collected in one activity (each exactly as collectBatch collects
 * it, a few at once). A batch that fails is named with its failure, not thrown: the others' results still arrive,
 * and the workflow collects the failed one again alone with collectBatch (its own retries, as before).
 */
export interface CollectBatchesInput {
  batches: CollectInput[];
}

export interface CollectBatchesResult {
  collected: { batchId: string; result: CollectResult }[];
  /** The error's type and message only (as the failure of collectBatch would carry them): no request, no answer. */
  failed: { batchId: string; type: string; message: string; nonRetryable: boolean }[];
}

// retries
export interface PackRetriesInput {
  jobId: string;
  /** Batches whose retries file is to be packed, in the order they were collected. */
  batchIds: string[];
  /** Distinguishes this packing from earlier ones; shard keys are r<round>-<n>. */
  round: number;
  batchSize: number;
}

// sync
export interface SyncInput {
  jobId: string;
  shardKey: string;
  concurrency: number;
  /** Retries of one call on retryable errors before it counts as failed. */
  maxRetries?: number;
  /** Check every answer; one that fails is asked again, up to maxAttempts calls, then invalid_output. */
  outputCheck?: OutputCheckOptions;
  maxAttempts?: number;
}

// finalize
export interface FinalizeInput {
  jobId: string;
  name: string;
  shardCount: number;
  /** Requests without an outcome are 'canceled' when the job was canceled, else 'not_run'. */
  jobCanceled: boolean;
  /** The job stopped on a fatal error: requests without an outcome are not_run. */
  stoppedEarly?: boolean;
  startedAtMs: number;
  batchesCreated: number;
  apiCalls: Record<string, number>;
  /** The job's budget ledger at the end, for jobs with a budget. */
  budget?: BudgetView;
  /** The job's canary, when it had one. */
  canary?: CanaryReport;
  /** The job checked its answers: write invalid-output.jsonl even when it is empty. */
  outputChecked?: boolean;
}

/** A budget as the summary, `sluice status` and the Web UI show it. */
export interface BudgetView {
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  /** The most that was spent and reserved at once (never above the limit). */
  peakCommittedUsd: number;
}

export interface JobSummary {
  jobId: string;
  name: string;
  requests: number;
  outcomes: Record<OutcomeStatus, number>;
  /** How many requests needed 1, 2, 3... attempts. */
  attempts: Record<string, number>;
  byMode: { batch: number; sync: number };
  tokens: { input: number; output: number; cacheCreation: number; cacheRead: number };
  costUsd: number;
  /** What the batch and the synchronous requests cost, apart. */
  costByMode: { batch: number; sync: number };
  syncEquivalentUsd: number;
  savedUsd: number;
  /**
   * What prompt caching saved, at the prices the requests ran at (batch prices for batched ones): cache writes and
   * reads priced as plain input, less their cost. Included in costUsd already; absent in summaries before it existed.
   */
  cacheSavedUsd?: number;
  unpricedModels: string[];
  /** Jobs with --pack: rows against prompts, unusable answers, and tokens per row packed and unpacked. */
  packing?: PackingSummary;
  batchesCreated: number;
  apiCalls: Record<string, number>;
  wallTimeMs: number;
  finishedAt: string;
  /** For jobs with a budget: the limit, what was spent, what was still reserved at the end, the peak. */
  budget?: BudgetView;
  /** The job's canary and its verdict (absent without --canary). */
  canary?: CanaryReport;
}

export interface PackingSummary {
  /** Rows in the job, and the packed prompts they went in. */
  rows: number;
  prompts: number;
  /** Packed prompts whose answer did not parse or had the wrong length, and the rows then sent alone. */
  unusableAnswers: number;
  rowsRetriedAlone: number;
  /**
   * Input tokens per row of the first `measuredRows` rows, by count_tokens, packed (their prompts' count / rows) and
   * unpacked (each row's single-row prompt). Absent when counting failed.
   */
  inputTokensPerRow?: { packed: number; unpacked: number; measuredRows: number };
  /** What the job cost per row (every token, the prompts retried alone included). */
  costPerRowUsd: number;
}

// intake
export interface CutInput {
  intake: string;
  jobId: string;
  items: { customId: string; segment: string }[];
}

export interface FinishedJob {
  jobId: string;
  succeeded: number;
  failed: number;
  /** Canceled, sla_missed or not run. */
  other: number;
  costUsd: number;
  /** Final status of the requests whose owners wait for a signal. */
  statuses: Record<string, string>;
  /** Store-backed intakes: whom to tell, read from the job's notify file. */
  notify?: { custom_id: string; workflowId: string; status: string }[];
}

// audit
export interface SnapshotAuditInput {
  jobId: string;
  input: string;
  defaults: JobDefaults;
}

/** What the workflow keeps of a snapshot: counts and keys (the file list stays in the store). */
export interface AuditSnapshot {
  inputKey: string;
  requestCount: number;
  rejected: number;
  rejectsKey?: string;
  files: number;
  bytes: number;
  snapshotKey: string;
}

export interface OrphanBatch {
  batchId: string;
  createdAt: string;
  /** processing_status when listed. */
  status: string;
  requests: number;
  /** A cancel was sent by this audit. */
  canceled: boolean;
  /** For an ended orphan: the job and sub-batch its wire ids name ('foreign': not Sluice's). */
  heldBy?: { jobId: string; shardKey: string } | 'foreign';
}

export interface UncollectedBatch {
  batchId: string;
  jobId: string;
  shardKey: string;
  /** Where the results were copied. */
  key: string;
  lines: number;
}

export interface ReconcileInput extends ReconcileOptions {
  schedule: string;
  stamp: string;
  auditId: string;
  scheduledAt: string;
  /** The snapshot and job parts of the report, as the workflow saw them. */
  snapshot?: AuditSnapshot;
  job?: unknown;
  problem?: string;
}

export interface ReconcileResult {
  /** Batches looked at. */
  listed: number;
  recorded: number;
  /** Unrecorded batches left alone for being younger than the grace period. */
  young: number;
  orphanCount: number;
  canceledOrphans: number;
  /** The first MAX_LISTED orphans; the report in the store has them all. */
  orphans: OrphanBatch[];
  uncollectedCount: number;
  uncollected: UncollectedBatch[];
  /** Uncollected batches whose results an earlier audit already copied. */
  alreadyCopied: number;
  reportKey: string;
}

/** A job's standing request: the room it wants to hold in total right now (in flight + what it could send). */
export interface RoomRequest {
  jobId: string;
  priority: number;
  deadlineMs?: number;
  target: Room;
  minRequests: number;
  paused: boolean;
  preempt?: 'stop' | 'cancel';
  /**
   * A refresh (jobs started since refreshes exist): the room the job holds by its own count, and how many grants it
   * has received, so a scheduler restarted after a terminate rebuilds the member from it (src/domain/queue-membership.ts).
   */
  held?: Room;
  grantSeq?: number;
  /** The job asked a scheduler before (a scheduler that does not know it has lost its state). */
  rejoin?: boolean;
  /** Filled in by the requestRoom activity from the worker's settings: expiry without a refresh, and the period. */
  expireAfterMs?: number;
  refreshMs?: number;
}

/** Which scheduler took the request (one per namespace and API key), and how often the job must refresh it. */
export interface RoomAnswer {
  schedulerId: string;
  refreshMs?: number;
}

export interface CancelInput {
  batchIds: string[];
}

export interface SlaMissedInput {
  jobId: string;
  shardKey: string;
  /** Written as each request's error message. */
  reason: string;
}

export interface CheckIntakeJobsInput {
  intake: string;
  /**
   * `ended`: the job said it ended (its signal came after its summary was written), so it is not described.
   * `notifyKey`: the store file naming the requests whose owners wait for a signal (store-backed intakes).
   */
  jobs: { jobId: string; notifyIds: string[]; ended?: boolean; notifyKey?: string }[];
}

/** One line of a buffer chunk in the store: what the intake needs to cut a request, never its body. */
export interface BufferLine {
  customId: string;
  segment: string;
  tier: 'urgent' | 'standard' | 'bulk';
  enqueuedAtMs: number;
  deadlineMs: number;
  cutByMs: number;
  notifyWorkflowId?: string;
  /** Known to have its record: merged from a chunk that was not marked `unrecorded`. recordIntakeChunks skips it. */
  recorded?: true;
}

/** What the workflow keeps of a chunk: its key and a summary; `taken` lines are already cut. */
export interface ChunkRef {
  key: string;
  tier: 'urgent' | 'standard' | 'bulk';
  count: number;
  taken: number;
  /** Earliest cut time, deadline and enqueue time of the lines not yet taken (or of all, conservatively). */
  cutByMs: number;
  deadlineMs: number;
  enqueuedAtMs: number;
  /** Admitted with deferred records: some of its lines may have no per-id record yet (recordIntakeChunks writes them). */
  unrecorded?: true;
}

export interface AdmitInput {
  intake: string;
  segment: string;
  /** Base key of the chunks this call writes (one per tier: `<chunkKey>` with the tier before .jsonl). */
  chunkKey: string;
  /** How many requests may still be accepted (room under maxBuffered). */
  room: number;
  /** The update's time: each request's deadline and cut time are planned from it (planBuffered). */
  nowMs: number;
  /** What planning needs of the intake's options. */
  plan: Pick<IntakeOptions, 'tiers' | 'cutLeadMs' | 'defaultTier'>;
  /** The update's items as the client sent them (EnqueueItem), in order, without those the workflow answered itself. */
  items: { custom_id: string; tier?: Tier; deadlineMs?: number; notifyWorkflowId?: string }[];
}

/**
 * Several enqueue updates admitted in one call (the intake's group commit): each group is one update's segment and
 * items; `notAccepted[].at` counts through the groups' items in order, and room is given out in that order.
 */
export interface AdmitGroupsInput extends Omit<AdmitInput, 'segment' | 'items'> {
  groups: { segment: string; items: AdmitInput['items'] }[];
}

/**
 * Deferred records (admitIntakeGroupsDeferred): no record is claimed; a custom_id is a duplicate when its record
 * exists or when it is in one of the `unrecorded` chunks (the buffer's chunks whose lines may have no record yet), and
 * the chunks written come back marked `unrecorded`.
 */
export interface AdmitDeferredInput extends AdmitGroupsInput {
  unrecorded: string[];
}

/** Writes the records of chunk lines from `from` on that have none yet (a cut's record, naming its job, is kept). */
export interface RecordChunksInput {
  intake: string;
  parts: { key: string; from: number }[];
}

export interface RecordChunksResult {
  /** Records created (those that existed are left as they are). */
  written: number;
  /** Parts whose lines all have records now. */
  recorded: string[];
  /** Parts whose chunk is gone (BlobNotFoundError): skipped, none of their records written. */
  missing: string[];
}

/** The state a duplicate's first request is in, in words the client shows. */
export interface AdmitAnswer {
  custom_id: string;
  status: 'accepted' | 'duplicate' | 'refused';
  reason?: string;
}

export interface AdmitResult {
  /** The answers other than `accepted` (kept short: history holds them), by index in `items`. */
  notAccepted: (AdmitAnswer & { at: number })[];
  accepted: number;
  chunks: ChunkRef[];
}

/** The durable record of one accepted request (intakeKeys.requestRecord). */
export interface RequestRecord {
  custom_id: string;
  segment: string;
  tier: 'urgent' | 'standard' | 'bulk';
  acceptedAtMs: number;
  /** Set when its sub-batch is cut. */
  jobId?: string;
}

export interface CutChunksInput {
  intake: string;
  jobId: string;
  parts: { key: string; from: number; to: number }[];
}

export interface CompactInput {
  intake: string;
  key: string;
  tier: 'urgent' | 'standard' | 'bulk';
  /** `unrecorded`: the part's chunk is marked (its lines keep what they say); unset, its lines are merged as `recorded`. */
  parts: { key: string; from: number; unrecorded?: true }[];
}

/** Every activity the worker registers, by the name workflows call it. */
// what the job's progress query answers (declared here, below the messages that name it)
export type JobPhase =
  | 'planning'
  | 'canary'
  | 'running'
  | 'held'
  | 'canceling'
  | 'finalizing'
  | 'done'
  | 'failed'
  | 'canceled'
  /** Stopped by its canary before the rest was sent. */
  | 'stopped';

/** What the `progress` query answers. */
export interface JobProgress {
  phase: JobPhase;
  /** Why a held job does not submit. */
  heldReason?: string;
  priority: number;
  requests: {
    total: number;
    succeeded: number;
    failed: number;
    canceled: number;
    slaMissed: number;
    /** Answers that failed the output check on their last attempt. */
    invalidOutput?: number;
    inFlight: number;
    inSync: number;
    waitingToRetry: number;
    notYetSubmitted: number;
  };
  batches: { created: number; inFlight: number; collected: number; queuedRetryShards: number };
  sla?: SlaView;
  /** The canary and its verdict, when the job has one. */
  canary?: CanaryReport;
  retried: number;
  reasons: Record<string, number>;
  tokens: { input: number; output: number };
  costUsd: number;
  syncEquivalentUsd: number;
  /** For jobs with a budget. */
  budget?: BudgetView;
  requestsPerMinute: number;
  etaMs?: number;
  run: number;
  elapsedMs: number;
  error?: string;
}

/** The SLA as the progress query and the Web UI show it. */
export interface SlaView {
  deadline: string;
  latestBatchSubmission: string;
  /** The window W the rule uses (the learned one once fitted). */
  windowMs: number;
  atRisk: boolean;
  /** Where a sub-batch submitted now would go. */
  routeNow: 'batch' | 'sync' | 'sla_missed';
  syncRequests: number;
}

// jobs started from a user's workflow
/** Where a job's requests come from: a path on the worker's file system, or an http(s) URL the worker fetches. */
export type StageSource = { file: string } | { url: string };

export interface StageInput {
  jobId: string;
  source: StageSource;
  defaults?: JobDefaults;
  /** Store bad lines in rejects.jsonl and run the rest (default: refuse the whole input). */
  skipInvalid?: boolean;
}

/** Keys and counts only: this is what the user's workflow history holds of the input. */
export interface StagedInput {
  inputKey: string;
  requestCount: number;
  rejected: number;
  rejectsKey?: string;
  /** The file or URL, for the summary and the Web UI. */
  source: string;
}

export const StageFailureType = {
  BadInput: 'SluiceBadInput',
  SourceUnreadable: 'SluiceInputUnreadable',
} as const;

/** Buffer chunks the intake no longer needs (cut, or merged into another), listed for the retention sweep. */
export interface RetireChunksInput {
  intake: string;
  /** intakeKeys.retired(...): the list's key, which carries when they were retired. */
  listKey: string;
  chunkKeys: string[];
}

/** Retired lists one sweep call takes at most; the rest wait for later calls (the intake's later turns). */
export const SWEEP_LISTS_PER_CALL = 16;

/** A job an intake cut, started by an activity rather than as a child (patch intake-quiet-handover). */
export interface StartIntakeJobInput {
  spec: JobSpec;
  taskQueue: string;
  staticSummary: string;
}

/** A job tells the intake that cut it that it ended (patch job-end-by-update). */
export interface ReportJobEndedInput {
  intakeWorkflowId: string;
  jobId: string;
}

/**
 * Deletes what lists retired before `cutoffMs` name: the chunks, their requests' records and bodies. One call sweeps
 * at most `maxLists` lists (SWEEP_LISTS_PER_CALL when absent) and starts no new one after its time budget.
 */
export interface SweepIntakeInput {
  intake: string;
  cutoffMs: number;
  maxLists?: number;
}

export interface SweepIntakeResult {
  lists: number;
  chunks: number;
  records: number;
  segments: number;
  /** Lists past the cutoff are left for another call (absent from sweeps recorded before the bound). */
  more?: boolean;
}

export interface SluiceActivities {
  planJob: (input: PlanInput) => Promise<PlanResult>;
  submitBatch: (input: SubmitInput) => Promise<SubmitResult>;
  pollBatches: (input: PollInput) => Promise<PollResult>;
  watchBatches: (input: WatchBatchesInput) => Promise<WatchBatchesResult>;
  walkBatchList: (input: WalkBatchesInput) => Promise<WalkBatchesResult>;
  recordEndedBatches: (input: RecordEndedInput) => Promise<{ recorded: number }>;
  collectBatch: (input: CollectInput) => Promise<CollectResult>;
  collectBatches: (input: CollectBatchesInput) => Promise<CollectBatchesResult>;
  packRetries: (input: PackRetriesInput) => Promise<{ shards: ShardRef[] }>;
  cancelBatches: (input: CancelInput) => Promise<{ canceling: number }>;
  requestRoom: (request: RoomRequest) => Promise<RoomAnswer>;
  runSync: (input: SyncInput) => Promise<CollectResult>;
  markSlaMissed: (input: SlaMissedInput) => Promise<{ requests: number }>;
  finalizeJob: (input: FinalizeInput) => Promise<JobSummary>;
  cutIntakeShard(input: CutInput): Promise<{ inputKey: string; requestCount: number }>;
  checkIntakeJobs: (input: CheckIntakeJobsInput) => Promise<{ finished: FinishedJob[] }>;
  startIntakeJob: (input: StartIntakeJobInput) => Promise<void>;
  reportJobEnded: (input: ReportJobEndedInput) => Promise<void>;
  admitIntakeRequests: (input: AdmitInput) => Promise<AdmitResult>;
  admitIntakeGroups: (input: AdmitGroupsInput) => Promise<AdmitResult>;
  admitIntakeGroupsDeferred: (input: AdmitDeferredInput) => Promise<AdmitResult>;
  cutIntakeChunks: (input: CutChunksInput) => Promise<{ inputKey: string; requestCount: number; notifyKey?: string }>;
  compactIntakeChunks: (input: CompactInput) => Promise<ChunkRef>;
  recordIntakeChunks: (input: RecordChunksInput) => Promise<RecordChunksResult>;
  retireIntakeChunks: (input: RetireChunksInput) => Promise<void>;
  sweepIntake: (input: SweepIntakeInput) => Promise<SweepIntakeResult>;
  snapshotAuditInput: (input: SnapshotAuditInput) => Promise<AuditSnapshot>;
  reconcileAccount: (input: ReconcileInput) => Promise<ReconcileResult>;
  stageRequests: (input: StageInput) => Promise<StagedInput>;
  sluiceJobProgress: (input: { jobId: string }) => Promise<JobProgress>;
}
