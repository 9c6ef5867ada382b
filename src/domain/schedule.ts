/**
 * When a recurring audit runs, and what its schedule does when runs collide or are missed. Pure: the client turns
 * the verdict into a Temporal Schedule spec.
 */
import { z } from 'zod';
import { DurationSchema, formatDuration } from './duration';
import { ConfigError } from './errors';
import { MARGIN_MS, submissionPeriodMs, WINDOW_MS } from './sla';

export const OVERLAP_POLICIES = ['SKIP', 'BUFFER_ONE', 'BUFFER_ALL', 'CANCEL_OTHER', 'TERMINATE_OTHER', 'ALLOW_ALL'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** The shortest interval a schedule may have (Temporal rounds intervals to whole seconds). */
export const MIN_INTERVAL_MS = 1_000;

export const ScheduleCadenceSchema = z.strictObject({
  /** A cron expression (5 to 7 fields, or @daily and friends), read in `timezone`. */
  cron: z.string().trim().min(1).optional(),
  /** A fixed interval, e.g. "4h" or "3s". */
  everyMs: DurationSchema.optional(),
  /** With neither cron nor every: the SLA window rule's submission period, SLA − window − margin. */
  slaMs: DurationSchema.optional(),
  windowMs: DurationSchema.default(WINDOW_MS),
  marginMs: DurationSchema.default(MARGIN_MS),
  /** IANA name such as Europe/Berlin; applies to cron only (intervals are absolute). Default UTC. */
  timezone: z.string().min(1).optional(),
  /** What a run due while the previous one still runs does. SKIP: it is not started. */
  overlap: z.enum(OVERLAP_POLICIES).default('SKIP'),
  /** After an outage of the server, runs missed by less than this are still taken. */
  catchupWindowMs: DurationSchema.default(3_600_000),
  /** A failed run pauses the schedule (with a note saying so) until someone unpauses it. */
  pauseOnFailure: z.boolean().default(true),
});
export type ScheduleCadenceInput = z.input<typeof ScheduleCadenceSchema>;
export type ScheduleCadence = z.output<typeof ScheduleCadenceSchema>;

/** What the schedule's spec says, and the line users read about it. */
export type Cadence =
  | { kind: 'cron'; cron: string; timezone?: string; text: string }
  | { kind: 'every'; everyMs: number; fromSla: boolean; text: string };

const CRON_SHORTHANDS = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/;

/** Exactly one way to say when: --cron, --every, or --sla alone. Throws a ConfigError naming the option. */
export function cadenceOf(c: ScheduleCadence): Cadence {
  const given = [c.cron !== undefined && 'cron', c.everyMs !== undefined && 'every'].filter(Boolean);
  if (given.length > 1) throw new ConfigError('cron', 'give --cron or --every, not both');
  if (c.cron !== undefined) {
    const fields = c.cron.split(/\s+/).length;
    if (!CRON_SHORTHANDS.test(c.cron) && (fields < 5 || fields > 7)) {
      throw new ConfigError('cron', `"${c.cron}" is not a cron expression: use 5 fields (minute hour day month weekday), e.g. "0 2 * * *"`);
    }
    if (c.timezone !== undefined) checkTimezone(c.timezone);
    const zone = c.timezone ?? 'UTC';
    return { kind: 'cron', cron: c.cron, timezone: c.timezone, text: `cron "${c.cron}" (${zone})` };
  }
  if (c.timezone !== undefined) {
    throw new ConfigError('timezone', 'applies to --cron only: intervals (--every, --sla) are the same in every time zone');
  }
  if (c.everyMs !== undefined) {
    if (c.everyMs < MIN_INTERVAL_MS || c.everyMs % 1_000 !== 0) {
      throw new ConfigError('every', `must be whole seconds, at least 1s (got ${formatDuration(c.everyMs)})`);
    }
    return { kind: 'every', everyMs: c.everyMs, fromSla: false, text: `every ${formatDuration(c.everyMs)}` };
  }
  if (c.slaMs !== undefined) {
    const everyMs = Math.max(MIN_INTERVAL_MS, Math.floor(submissionPeriodMs(c.slaMs, c.windowMs, c.marginMs) / 1_000) * 1_000);
    return {
      kind: 'every',
      everyMs,
      fromSla: true,
      text: `every ${formatDuration(everyMs)} (SLA ${formatDuration(c.slaMs)} − window ${formatDuration(c.windowMs)} − margin ${formatDuration(c.marginMs)})`,
    };
  }
  throw new ConfigError('cron', 'say when the audit runs: --cron "0 2 * * *", --every 4h, or --sla 30h (every SLA − window − margin)');
}

function checkTimezone(zone: string) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new ConfigError('timezone', `"${zone}" is not a time zone name such as Europe/Berlin or America/New_York`);
  }
}
