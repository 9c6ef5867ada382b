/**
 * A recurring audit: what a schedule starts every night. Its options (validated once by the client that creates
 * the schedule, and again by the workflow, since schedules outlive releases), its store keys and its ids.
 * Pure: the audit workflow imports it.
 */
import { z } from 'zod';
import { DurationSchema } from './duration';
import { JobOptionsSchema } from './job';
import { JobDefaultsSchema } from './request';
import { auditKeys } from '../contracts/store-keys';
import { auditWorkflowIdPrefix, scheduleIdOf, scheduleNameOf } from '../contracts/workflow-ids';

// Moved to src/contracts; re-exported so existing imports keep working.
export { auditKeys, auditWorkflowIdPrefix, scheduleIdOf, scheduleNameOf };

const HOUR_MS = 3_600_000;
/** Results of a batch stay downloadable for 29 days after its creation. */
export const RESULTS_RETENTION_MS = 29 * 24 * HOUR_MS;

/** Lower-case letters, digits and dashes: the name goes into schedule, workflow and store ids. */
export const ScheduleNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'must be 1-48 lower-case letters, digits or dashes, starting with a letter or digit');

export const ReconcileOptionsSchema = z.strictObject({
  /** Cancel batches in progress that Sluice never recorded (default: only report them). */
  cancelOrphans: z.boolean().default(false),
  /**
   * Unrecorded batches younger than this are left alone: a submission may be between its create call and its
   * record (or about to adopt the batch on retry). 0 = no age check (tests with compressed emulator time).
   */
  orphanGraceMs: DurationSchema.default(HOUR_MS),
  /** Download the results of recorded batches that ended and were never collected. */
  downloadUncollected: z.boolean().default(true),
  /** Only batches that ended at least this long ago count as uncollected (a running job collects within minutes). */
  uncollectedGraceMs: DurationSchema.default(HOUR_MS),
  /** How far back the account's batches are looked at (newest first); results older than 29 days are gone anyway. */
  lookbackMs: DurationSchema.default(RESULTS_RETENTION_MS),
});
export type ReconcileOptionsInput = z.input<typeof ReconcileOptionsSchema>;
export type ReconcileOptions = z.output<typeof ReconcileOptionsSchema>;

export const AuditOptionsSchema = z.strictObject({
  /** The schedule's name; the audit's job, report and ids are named after it. */
  name: ScheduleNameSchema,
  /**
   * What to snapshot each run, as the WORKER sees it: a JSONL file, a directory of .jsonl files, or a glob
   * (`data/**\/*.jsonl`). An absolute path, since workers do not share the client's working directory.
   */
  input: z.string().min(1, 'must name a file, a directory or a glob'),
  /** Merged into every request that lacks them (model, max_tokens, system, temperature). */
  defaults: JobDefaultsSchema.default({}),
  /** The job's options; a fixed deadline makes no sense for recurring work: use `slaMs`. */
  job: JobOptionsSchema.refine((o) => o.sla.deadlineMs === undefined, {
    message: 'a recurring audit takes slaMs (relative to each run), not a fixed deadline',
    path: ['sla', 'deadlineMs'],
  }).default(JobOptionsSchema.parse({})),
  /** Each run's job is due this long after the run's scheduled time. */
  slaMs: DurationSchema.optional(),
  reconcile: ReconcileOptionsSchema.default(ReconcileOptionsSchema.parse({})),
});
export type AuditOptionsInput = z.input<typeof AuditOptionsSchema>;
export type AuditOptions = z.output<typeof AuditOptionsSchema>;


/** `20260301-020000` (UTC) for a run's report and ids; seconds included, so second-interval schedules never collide. */
export function auditStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}



