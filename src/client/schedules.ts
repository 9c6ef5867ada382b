/**
 * Recurring audits on Temporal Schedules, from your own code (the `sluice schedule` commands use the same helpers).
 *
 *   await createSchedule({ client, taskQueue: 'sluice', name: 'nightly',
 *     audit: { input: '/data/docs/*.jsonl', defaults: { model: 'claude-haiku-5-5', max_tokens: 512 } },
 *     cadence: { cron: '0 2 * * *', timezone: 'Europe/Berlin' } });
 *
 * Each schedule `sluice-schedule-<name>` starts the `sluiceAudit` workflow (id `sluice-audit-<name>-<due time>`),
 * which starts the night's job as `sluice-job-<name>-<yyyymmdd-hhmmss>`.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  WorkflowFailedError,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOverlapPolicy,
  type ScheduleSpec,
} from '@temporalio/client';
import {
  AuditOptionsSchema,
  auditWorkflowIdPrefix,
  scheduleIdOf,
  scheduleNameOf,
  type AuditOptions,
  type AuditOptionsInput,
} from '../domain/audit';
import { formatDuration } from '../domain/duration';
import { ConfigError, parseConfig } from '../domain/errors';
import { setupErrorOr } from '../temporal/failures';
import { cadenceOf, ScheduleCadenceSchema, type Cadence, type OverlapPolicy, type ScheduleCadenceInput } from '../domain/schedule';
import { sluiceAudit, type AuditResult } from '../workflows';
import { SluiceJobName, SluicePriority } from '../workflows/search-attributes';

export interface CreateScheduleOptions {
  client: Client;
  taskQueue: string;
  /** Lower-case letters, digits and dashes. */
  name: string;
  /** What each run audits; `input` as the worker sees it (an absolute path or glob). */
  audit: Omit<AuditOptionsInput, 'name'>;
  /** When: cron, every, or (with neither) the audit's SLA; and the overlap, catch-up and failure policies. */
  cadence: Omit<ScheduleCadenceInput, 'slaMs' | 'windowMs' | 'marginMs'>;
  /** Create it paused (runs only on trigger until unpaused). */
  paused?: boolean;
  note?: string;
}

export interface CreatedSchedule {
  scheduleId: string;
  cadence: Cadence;
  nextRuns: Date[];
}

/** What Sluice keeps in the schedule's memo, for list and describe (cron expressions come back compiled). */
interface ScheduleMemo {
  cadence: string;
  input: string;
}

export async function createSchedule(o: CreateScheduleOptions): Promise<CreatedSchedule> {
  const auditInput: AuditOptionsInput = { ...o.audit, name: o.name };
  const audit = parseConfig(AuditOptionsSchema, auditInput);
  const c = parseConfig(ScheduleCadenceSchema, {
    ...o.cadence,
    slaMs: audit.slaMs,
    windowMs: audit.job.sla.windowMs,
    marginMs: audit.job.sla.marginMs,
  });
  const cadence = cadenceOf(c);
  const spec: ScheduleSpec =
    cadence.kind === 'cron'
      ? { cronExpressions: [cadence.cron], timezone: cadence.timezone }
      : { intervals: [{ every: cadence.everyMs }] };
  const scheduleId = scheduleIdOf(o.name);
  const memo: ScheduleMemo = { cadence: cadence.text, input: audit.input };
  let handle: ScheduleHandle;
  try {
    handle = await o.client.schedule.create({
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: sluiceAudit,
        workflowId: auditWorkflowIdPrefix(o.name),
        taskQueue: o.taskQueue,
        args: [{ options: auditInput }],
        typedSearchAttributes: [
          { key: SluiceJobName, value: o.name },
          { key: SluicePriority, value: audit.job.priority },
        ],
        staticSummary: `Sluice audit "${o.name}": snapshot the input, run it as a job, reconcile the account's batches`,
        staticDetails: auditStaticDetails(audit, cadence),
      },
      policies: { overlap: c.overlap, catchupWindow: c.catchupWindowMs, pauseOnFailure: c.pauseOnFailure },
      state: { paused: o.paused ?? false, note: o.note ?? (o.paused ? 'created paused' : undefined) },
      memo: { sluice: memo },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) {
      throw new ConfigError('name', `a schedule named "${o.name}" exists already: delete it first, or choose another name`, { cause: err });
    }
    throw setupErrorOr(err, o.client.options.namespace);
  }
  const described = await handle.describe();
  return { scheduleId, cadence, nextRuns: described.info.nextActionTimes };
}

function auditStaticDetails(a: AuditOptions, cadence: Cadence): string {
  const r = a.reconcile;
  return [
    `**Input** \`${a.input}\` (bad lines are skipped into rejects.jsonl)`,
    `**When** ${cadence.text}`,
    `**Job** \`sluice-job-${a.name}-YYYYMMDD-HHMMSS\`: sub-batches of ${a.job.batchSize}, at most ${a.job.maxAttempts} attempts` +
      (a.slaMs === undefined ? '' : `, due ${formatDuration(a.slaMs)} after each run`) +
      `, priority ${a.job.priority}`,
    `**Reconcile** unrecorded batches older than ${formatDuration(r.orphanGraceMs)} are ${r.cancelOrphans ? 'reported and canceled' : 'reported'}; ` +
      (r.downloadUncollected ? `results of recorded batches never collected are copied to audits/uncollected/` : 'uncollected results are not copied'),
    `**Report** \`audits/${a.name}/YYYYMMDD-HHMMSS.json\` in the store`,
  ].join('\n\n');
}

export interface ScheduleListEntry {
  name: string;
  scheduleId: string;
  paused: boolean;
  note?: string;
  cadence?: string;
  input?: string;
  nextRun?: Date;
  lastRun?: { workflowId: string; scheduledAt: Date };
}

/** Sluice's schedules (those named sluice-schedule-*), by name. Visibility lags a create or delete by a moment. */
export async function listSchedules(client: Client): Promise<ScheduleListEntry[]> {
  const out: ScheduleListEntry[] = [];
  for await (const s of client.schedule.list()) {
    const name = scheduleNameOf(s.scheduleId);
    if (!name) continue;
    const memo = s.memo?.sluice as ScheduleMemo | undefined;
    const last = s.info.recentActions.at(-1);
    out.push({
      name,
      scheduleId: s.scheduleId,
      paused: s.state.paused,
      note: s.state.note,
      cadence: memo?.cadence,
      input: memo?.input,
      nextRun: s.info.nextActionTimes[0],
      lastRun: last ? { workflowId: last.action.workflow.workflowId, scheduledAt: last.scheduledAt } : undefined,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface ScheduleRun {
  workflowId: string;
  runId: string;
  scheduledAt: Date;
  takenAt: Date;
  /** RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  status: string;
  /** One line: what the audit found, or why it failed. */
  outcome?: string;
  result?: AuditResult;
}

export interface ScheduleView {
  name: string;
  scheduleId: string;
  paused: boolean;
  note?: string;
  cadence?: string;
  input?: string;
  overlap: OverlapPolicy | undefined;
  catchupWindowMs: number;
  pauseOnFailure: boolean;
  actionsTaken: number;
  skippedForOverlap: number;
  missedCatchupWindow: number;
  nextRuns: Date[];
  /** Oldest first, as many as the server keeps (10). */
  recentRuns: ScheduleRun[];
  running: string[];
}

export async function describeSchedule(client: Client, name: string): Promise<ScheduleView> {
  const d = await scheduleCall(client, name, (h) => h.describe());
  const memo = d.memo?.sluice as ScheduleMemo | undefined;
  const recentRuns = await Promise.all(d.info.recentActions.map((a) => runOf(client, a)));
  return {
    name,
    scheduleId: d.scheduleId,
    paused: d.state.paused,
    note: d.state.note,
    cadence: memo?.cadence,
    input: memo?.input,
    overlap: d.policies.overlap,
    catchupWindowMs: d.policies.catchupWindow,
    pauseOnFailure: d.policies.pauseOnFailure,
    actionsTaken: d.info.numActionsTaken,
    skippedForOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    nextRuns: d.info.nextActionTimes,
    recentRuns,
    // The server tracks running actions for its overlap policy; triggered runs (ALLOW_ALL) show only by status.
    running: [
      ...new Set([
        ...d.info.runningActions.map((a) => a.workflow.workflowId),
        ...recentRuns.filter((r) => r.status === 'RUNNING').map((r) => r.workflowId),
      ]),
    ],
  };
}

async function runOf(client: Client, a: ScheduleDescription['info']['recentActions'][number]): Promise<ScheduleRun> {
  const { workflowId, firstExecutionRunId: runId } = a.action.workflow;
  const handle = client.workflow.getHandle<typeof sluiceAudit>(workflowId, runId, { followRuns: false });
  const base = { workflowId, runId, scheduledAt: a.scheduledAt, takenAt: a.takenAt };
  try {
    const status = (await handle.describe()).status.name;
    if (status === 'COMPLETED') {
      const result = await handle.result();
      return { ...base, status, result, outcome: auditOutcomeLine(result) };
    }
    if (status === 'FAILED') {
      const message = await handle.result().then(
        () => undefined,
        (err: unknown) => (err instanceof WorkflowFailedError ? rootMessage(err) : String(err)),
      );
      return { ...base, status, outcome: message };
    }
    return { ...base, status };
  } catch (err) {
    return { ...base, status: 'UNKNOWN', outcome: (err as Error).message };
  }
}

export function auditOutcomeLine(r: AuditResult): string {
  const job = r.job ? `${r.job.succeeded}/${r.job.requests} succeeded, ${r.job.failed} failed` : 'no job';
  const rec = r.reconcile;
  return (
    `${job}; ${rec.orphanCount} orphan batches${rec.canceledOrphans ? ` (${rec.canceledOrphans} canceled)` : ''}, ` +
    `${rec.uncollectedCount} uncollected copied`
  );
}

export function pauseSchedule(client: Client, name: string, note = 'paused with sluice schedule pause'): Promise<void> {
  return scheduleCall(client, name, (h) => h.pause(note));
}

export function unpauseSchedule(client: Client, name: string, note = 'unpaused with sluice schedule unpause'): Promise<void> {
  return scheduleCall(client, name, (h) => h.unpause(note));
}

/** Starts a run now, paused or not. Default overlap ALLOW_ALL: it runs even beside a run in progress. */
export function triggerSchedule(client: Client, name: string, overlap?: ScheduleOverlapPolicy): Promise<void> {
  return scheduleCall(client, name, (h) => h.trigger(overlap));
}

/** Removes the schedule; runs already started go on, and the store keeps their reports and jobs. */
export function deleteSchedule(client: Client, name: string): Promise<void> {
  return scheduleCall(client, name, (h) => h.delete());
}

async function scheduleCall<T>(client: Client, name: string, fn: (h: ScheduleHandle) => Promise<T>): Promise<T> {
  try {
    return await fn(client.schedule.getHandle(scheduleIdOf(name)));
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new ConfigError('name', `there is no schedule named "${name}" (sluice schedule list shows them)`, { cause: err });
    }
    throw err;
  }
}

function rootMessage(err: Error): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
