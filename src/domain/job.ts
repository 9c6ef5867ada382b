/**
 * The shapes a job is made of: its options (validated once, at the edge), the lines Sluice keeps in the store
 * (normalized requests, shards, outcomes), and the store keys where they live. History only ever carries these
 * keys and counts, never prompt text or results.
 */
import { z } from 'zod';
import { CanaryOptionsSchema } from './canary';
import { DurationSchema } from './duration';
import { DEFAULT_REQUESTS_PER_BATCH, MAX_REQUESTS_PER_BATCH } from './limits';
import { PollOptionsSchema } from './poll';
import { SlaPolicySchema } from './sla-route';
import type { Usage } from './cost';
import type { MessageParams } from './request';
import type { PackedRow } from './pack';
import { jobKeys, originalShardKey, retryShardKey } from '../contracts/store-keys';
import { jobWorkflowId } from '../contracts/workflow-ids';

// Moved to src/contracts; re-exported so existing imports keep working.
export { jobKeys, jobWorkflowId, originalShardKey, retryShardKey };

export const OutputCheckOptionsSchema = z.strictObject({
  expect: z.literal('json'),
  /** The job's JSON Schema is in the store (jobKeys.outputSchema): kept out of history, read by collect. */
  schema: z.boolean().default(false),
});
export type OutputCheckOptions = z.output<typeof OutputCheckOptionsSchema>;

export const JobOptionsSchema = z.strictObject({
  /** Requests per sub-batch (default 100; the API takes up to 100,000 and 256 MB). */
  batchSize: z.number().int().min(1).max(MAX_REQUESTS_PER_BATCH).default(DEFAULT_REQUESTS_PER_BATCH),
  /** Times a request is sent at most; after that a retryable failure is terminal. */
  maxAttempts: z.number().int().min(1).max(20).default(3),
  /** Batches of this job in flight at once; the API's queue cap is about 100k requests. */
  maxBatchesInFlight: z.number().int().min(1).max(10_000).default(500),
  /** Submit and collect activities run at once (each is one API call or one results download). */
  activityConcurrency: z.number().int().min(1).max(200).default(16),
  /** With more batches than this in flight, one poll lists the account's batches instead of retrieving each. */
  listPollThreshold: z.number().int().min(1).default(20),
  poll: PollOptionsSchema.default(PollOptionsSchema.parse({})),
  /** Continue-as-new at this many history events even if the server has not suggested it yet. */
  maxHistoryEvents: z.number().int().min(500).max(40_000).default(8_000),
  /** Heartbeat timeout for long activities (results downloads). */
  heartbeatTimeoutMs: DurationSchema.default(60_000),
  /** 1 is most urgent; the API key's scheduler grants room in the batch queue by it. */
  priority: z.number().int().min(1).max(1_000).default(5),
  /** When a more urgent job needs room: stop submitting, or also cancel young batches (default: the scheduler's). */
  preempt: z.enum(['stop', 'cancel']).optional(),
  /** Share the batch queue through the API key's scheduler (off: this job only obeys its own limits). */
  useScheduler: z.boolean().default(true),
  /**
   * After the job is canceled, how long it waits for its canceled batches to end (the API ends them within about a
   * minute, at expiry at the latest). Past it, the job finishes and reports their requests as in flight at stop.
   */
  cancelGraceMs: DurationSchema.default(3_600_000),
  /**
   * A hard ceiling in USD: a sub-batch is sent only if its worst case fits beside what is spent and reserved, else the
   * job holds (reason budget) until `sluice budget` raises it. Unset: no ceiling.
   */
  budgetUsd: z.number().positive().finite().optional(),
  /**
   * Mark each request's longest leading blocks that enough requests share with cache_control of this lifetime, and
   * send requests of one prefix together (docs/prompt-cache.md). Absent: requests are sent as written.
   */
  cachePrefix: z
    .strictObject({ ttl: z.enum(['5m', '1h'], { error: 'must be "1h" or "5m"' }).default('1h') }, { error: 'must be an object like {"ttl": "1h"}' })
    .optional(),
  /** Deadline, window rule, synchronous fallback and dual mode. */
  sla: SlaPolicySchema.default(SlaPolicySchema.parse({})),
  /** Send the first N requests alone and stop the job if too many of them fail (docs/spending.md). */
  canary: CanaryOptionsSchema.optional(),
  /**
   * Check every answer: its text must parse as JSON and, with `schema`, satisfy the JSON Schema stored at
   * jobKeys.outputSchema (written by the client). Answers that fail are retried, then reported invalid_output.
   */
  outputCheck: OutputCheckOptionsSchema.optional(),
});
export type JobOptionsInput = z.input<typeof JobOptionsSchema>;
export type JobOptions = z.output<typeof JobOptionsSchema>;

/** A job's start input: everything the workflow needs, all of it ids, keys, counts and options. */
export interface JobSpec {
  jobId: string;
  /** Short human name (from the file name or --name), shown in the Web UI. */
  name: string;
  /** Store key of the normalized input written by the client (one NormalizedRequest per line). */
  inputKey: string;
  requestCount: number;
  options: JobOptions;
  /** Where the input came from, for the summary (a path; never its content). */
  source?: string;
  submittedAtMs?: number;
  /** A workflow (the intake that cut this job) told by the subBatchDone signal once the summary is written. */
  reportTo?: string;
}

/** One validated request as the client stores it: defaults merged, custom_id given or derived. */
export interface NormalizedRequest {
  custom_id: string;
  /** 1-based line number in the user's file, for messages and output. */
  line: number;
  params: MessageParams;
  /**
   * A packed request (--pack): the rows its prompt holds, in order. Its answers are filed under the rows'
   * custom_ids; its own custom_id (domain/pack.ts packId) never reaches results.
   */
  pack?: PackedRow<MessageParams>[];
}

/** A request inside a shard: the normalized request plus where it is in its life. */
export interface ShardLine extends NormalizedRequest {
  /** Index of the original shard it came from; outcomes are filed under it so output keeps input order. */
  origin: number;
  /** 1 for the first send. */
  attempt: number;
  /** Batches it was sent in before this one. */
  batch_ids: string[];
  /** Its worst-case USD at batch prices, for jobs with a budget (retry shards add theirs up from it). */
  worst_usd?: number;
  /** Answers of earlier attempts that failed the output check (absent when none). */
  discarded?: DiscardedAnswer[];
}

export type OutcomeStatus = 'succeeded' | 'failed' | 'canceled' | 'sla_missed' | 'not_run' | 'invalid_output';

/** An answer that was paid for and then discarded (it failed the output check and was retried): its cost counts. */
export interface DiscardedAnswer {
  model: string;
  usage: Usage;
}

/** A request's final outcome, as written to results.jsonl. */
export interface OutcomeLine {
  custom_id: string;
  line: number;
  status: OutcomeStatus;
  attempts: number;
  batch_ids: string[];
  mode?: 'batch' | 'sync';
  message?: unknown;
  /** A row answered in a packed prompt: its element of the answer array (the usage is the pack's, in PackRecord). */
  answer?: unknown;
  /** A row that went in a packed prompt: the pack's id inside Sluice, the row's place in it, and the pack's size. */
  pack?: { id: string; index: number; of: number };
  error?: { type: string; message: string };
  /** Answers of earlier attempts that failed the output check and were paid for (absent when none). */
  discarded?: DiscardedAnswer[];
}

/** One packed request answered (jobKeys.packs): what it cost and whether its answer was usable. No content. */
export interface PackRecord {
  custom_id: string;
  line: number;
  rows: number;
  mode: 'batch' | 'sync';
  model: string;
  usage: Record<string, unknown>;
  usable: boolean;
  reason?: string;
}

export interface ShardRef {
  key: string;
  requests: number;
  /** Worst-case USD of the shard at batch prices, for jobs with a budget. */
  worstUsd?: number;
}


export type { BatchTiming } from './batch-timing';

/**
 * When a poll first saw a batch ended, on the worker's clock (BatchTiming's times are the API's clock, which the
 * time-compressed emulator runs fast): the job report draws batches on the same clock as the deadline.
 */
export interface BatchSeenEnded {
  batchId: string;
  seenEndedAtMs: number;
}

/** When runSync first started a sub-batch and when it finished it (no content): the report's timeline. */
export interface SyncTiming {
  shardKey: string;
  requests: number;
  startedAtMs: number;
  /** Absent while the sub-batch runs (or if its activity died and never finished). */
  endedAtMs?: number;
}




