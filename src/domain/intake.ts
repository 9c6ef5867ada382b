/**
 * Continuous intake: requests arrive one by one with a service tier (or their own deadline) and wait in a buffer
 * until a sub-batch is cut: when it is full, or when its oldest request reaches its latest safe submission time
 * under the SLA window rule. Urgent requests never wait. Pure: the intake workflow applies these verdicts.
 */
import { z } from 'zod';
import { DurationSchema } from './duration';
import { JobOptionsSchema } from './job';
import { DEFAULT_REQUESTS_PER_BATCH, MAX_REQUESTS_PER_BATCH } from './limits';

export const TIERS = ['urgent', 'standard', 'bulk'] as const;
/** 100 sub-batches' worth at the default batchSize. */
export const DEFAULT_MAX_CUT_REQUESTS = 10_000;
export const DEFAULT_CUT_GATHER_MS = 3_000;
export type Tier = (typeof TIERS)[number];

const TierRuleSchema = z.strictObject({
  /** Time from enqueue until the answer is due. */
  slaMs: DurationSchema,
  /** The batch window W this tier plans with: the API's 24 h, or what is observed for small batches. */
  windowMs: DurationSchema,
  /** Margin M kept after the window. */
  marginMs: DurationSchema,
});
export type TierRule = z.output<typeof TierRuleSchema>;

export const IntakeOptionsSchema = z.strictObject({
  /** Requests per sub-batch; a buffer this full is cut at once. */
  batchSize: z.number().int().min(1).max(MAX_REQUESTS_PER_BATCH).default(DEFAULT_REQUESTS_PER_BATCH),
  /**
   * Requests one cut takes at most into one child job, which splits them into sub-batches of batchSize as any job
   * does: fewer, bigger jobs than one per sub-batch (a whole job a sub-batch was what bounded the rate).
   */
  maxCutRequests: z.number().int().min(1).max(100_000).default(DEFAULT_MAX_CUT_REQUESTS),
  /**
   * A standard or bulk tier with at least batchSize waiting, but fewer than maxCutRequests, waits this long after
   * its oldest request arrived before it is cut (never past its cut time), so cuts grow under steady traffic.
   * Urgent requests and a flush never wait for it.
   */
  cutGatherMs: DurationSchema.default(DEFAULT_CUT_GATHER_MS),
  /** Requests buffered at most (all tiers); past it enqueue answers "queue full". */
  maxBuffered: z.number().int().min(1).max(50_000).default(10_000),
  /** Tier of requests that name none. */
  defaultTier: z.enum(TIERS).default('bulk'),
  tiers: z
    .strictObject({
      // Standard: most batches end within the hour, so it plans with a 30 min window and cuts after 20 min.
      standard: TierRuleSchema.default({ slaMs: 3_600_000, windowMs: 1_800_000, marginMs: 600_000 }),
      // Bulk: the full 24 h window; a 30 h SLA lets a request wait up to 4 h for company.
      bulk: TierRuleSchema.default({ slaMs: 30 * 3_600_000, windowMs: 24 * 3_600_000, marginMs: 2 * 3_600_000 }),
    })
    .default({
      standard: { slaMs: 3_600_000, windowMs: 1_800_000, marginMs: 600_000 },
      bulk: { slaMs: 30 * 3_600_000, windowMs: 24 * 3_600_000, marginMs: 2 * 3_600_000 },
    }),
  /**
   * The window the cut sub-batches' jobs plan with: fixed (their tier's windowMs) or learned from the account's
   * batches (never longer than the tier's windowMs). When to cut still follows the tier's windowMs.
   */
  window: z.enum(['fixed', 'learned']).default('fixed'),
  /** Synchronous calls at once for urgent requests and fallbacks. */
  syncConcurrency: z.number().int().min(1).max(64).default(8),
  /**
   * What one synchronous call is expected to take, for each cut's straggler rule (the job's `sla.syncRequestMs`);
   * unset: the job's default. Compressed-time runs need it compressed too, or every batch still out near the deadline
   * is canceled as a straggler.
   */
  syncRequestMs: DurationSchema.optional(),
  /** Child jobs running at once (each one sub-batch, or up to maxCutRequests under patch intake-cut-many). */
  maxJobsInFlight: z.number().int().min(1).max(1_000).default(200),
  /**
   * Job options for each cut sub-batch (poll intervals, attempts...), checked here against the job's own schema so
   * a bad one is refused when the intake is created, not at its first cut (where it would fail every retry of the
   * workflow task). batchSize and sla are the intake's to set, per cut.
   */
  job: z
    .record(z.string(), z.unknown())
    .default({})
    .superRefine((job, ctx) => {
      const { sla: _sla, batchSize: _batchSize, ...rest } = job;
      const parsed = JobOptionsSchema.safeParse(rest);
      if (parsed.success) return;
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }),
  /** Cut this long before the latest safe submission, so the sub-batch is still trusted when it is sent. */
  cutLeadMs: DurationSchema.default(60_000),
  /** Intakes started before sub-batches reported back: how often sub-batches in flight are described. */
  checkEveryMs: DurationSchema.default(10_000),
  /**
   * Sub-batch jobs signal the intake when they end; one not heard from for this long is described instead (a job
   * terminated from outside never signals).
   */
  silentCheckAfterMs: DurationSchema.default(600_000),
  /**
   * How long the intake keeps what it wrote for its requests: a custom_id's record (so dedup holds this long), its
   * body and its buffer chunk are deleted this long after its chunk was done with (never sooner than twice the longest
   * tier's SLA). Sub-batch jobs' results are the jobs' own and are not touched.
   */
  retentionMs: DurationSchema.default(30 * 24 * 3_600_000),
  /** Continue as new past this many history events. */
  maxHistoryEvents: z.number().int().min(500).default(5_000),
  /**
   * Intakes started before per-request records: how many finished custom_ids are remembered for de-duplication.
   * Newer intakes keep a record per custom_id in the store for as long as their results are kept.
   */
  rememberDone: z.number().int().min(0).max(50_000).default(10_000),
});
export type IntakeOptionsInput = z.input<typeof IntakeOptionsSchema>;
export type IntakeOptions = z.output<typeof IntakeOptionsSchema>;

/** A buffered request as the workflow holds it: ids and times only (its body is in the store). */
export interface Buffered {
  customId: string;
  tier: Exclude<Tier, 'urgent'>;
  enqueuedAtMs: number;
  deadlineMs: number;
  /** When its sub-batch is cut at the latest: deadline − W − M − cutLead. */
  cutByMs: number;
}

export function tierRule(o: Pick<IntakeOptions, 'tiers'>, tier: Exclude<Tier, 'urgent'>): TierRule {
  return o.tiers[tier];
}

/** Deadline and latest cut for a request, from its own deadline or its tier's SLA. */
export function planBuffered(
  customId: string,
  tier: Exclude<Tier, 'urgent'>,
  nowMs: number,
  o: Pick<IntakeOptions, 'tiers' | 'cutLeadMs'>,
  ownDeadlineMs?: number,
): Buffered {
  const rule = tierRule(o, tier);
  const deadlineMs = ownDeadlineMs ?? nowMs + rule.slaMs;
  const cutByMs = deadlineMs - rule.windowMs - rule.marginMs - o.cutLeadMs;
  return { customId, tier, enqueuedAtMs: nowMs, deadlineMs, cutByMs };
}

/**
 * Which buffered requests to cut into a sub-batch now: full sub-batches first, then, when the most pressing
 * request's cut time has come, everything waiting up to one sub-batch (it rides along for free).
 */
export function cutsDue(buffer: readonly Buffered[], nowMs: number, batchSize: number): string[][] {
  const ordered = [...buffer].sort((a, b) => a.cutByMs - b.cutByMs || a.enqueuedAtMs - b.enqueuedAtMs);
  const cuts: string[][] = [];
  let i = 0;
  while (ordered.length - i >= batchSize) {
    cuts.push(ordered.slice(i, i + batchSize).map((b) => b.customId));
    i += batchSize;
  }
  if (i < ordered.length && ordered[i]!.cutByMs <= nowMs) cuts.push(ordered.slice(i).map((b) => b.customId));
  return cuts;
}

/** When the next cut falls due for the buffer (undefined when it is empty). */
export function nextCutMs(buffer: readonly Buffered[]): number | undefined {
  return buffer.length ? Math.min(...buffer.map((b) => b.cutByMs)) : undefined;
}
