/**
 * One run of a recurring audit, as a schedule starts it: snapshot the input, run it as a job (a child workflow
 * with a readable id), then reconcile the account's batches with Sluice's records and write the night's report.
 * A problem with the input or the job does not skip the reconciliation; the audit fails after it, so the schedule
 * (pause on failure) stops until someone looks.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType, TypedSearchAttributes } from '@temporalio/common';
import { longActivityRetry } from './activity-options';
import type { SluiceActivities } from '../contracts/activities';
import { AuditOptionsSchema, auditStamp, type AuditOptionsInput } from '../domain/audit';
import { jobWorkflowId, type JobSpec } from '../domain/job';
import { auditDetailsMarkdown, jobOutcomeOf, jobStaticDetails, jobStaticSummary } from './audit-state';
import { sluiceJob } from './job';
import { SluiceDeadline, SluiceJobName, SluicePhase, SluicePriority } from './search-attributes';
import type { AuditSnapshot } from '../contracts/activities';
import {
  auditStatusQuery,
  type AuditJobOutcome,
  type AuditPhase,
  type AuditResult,
  type AuditState,
} from '../contracts/messages';

export interface AuditInput {
  /** As the schedule stores them; validated again here, since a schedule outlives the release that created it. */
  options: AuditOptionsInput;
}

/** Set by Temporal on every workflow a schedule starts: the time the run was due. */
const TemporalScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** Both read or list without bound (files, the account's batches): heartbeats show they are alive. */
// Bounded like the job's long activities: past its attempts the night reports the failure instead of retrying forever.
const io: ActivityOptions = { startToCloseTimeout: '1h', heartbeatTimeout: '2m', retry: longActivityRetry };
const acts = proxyActivities<SluiceActivities>(io);

export async function sluiceAudit({ options }: AuditInput): Promise<AuditResult> {
  const parsed = AuditOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ');
    throw ApplicationFailure.nonRetryable(`The audit's options are invalid: ${issues}`, 'BadAuditOptions');
  }
  const o = parsed.data;
  const info = workflowInfo();
  const scheduledAtMs = scheduledStartMs();
  const jobId = jobWorkflowId(o.name, scheduledAtMs);
  const s: AuditState = {
    phase: 'snapshot',
    schedule: o.name,
    input: o.input,
    scheduledAt: new Date(scheduledAtMs).toISOString(),
    jobId,
  };
  setHandler(auditStatusQuery, () => s);
  const deadlineMs = o.slaMs === undefined ? undefined : scheduledAtMs + o.slaMs;
  upsertSearchAttributes([
    { key: SluiceJobName, value: o.name },
    { key: SluicePriority, value: o.job.priority },
    ...(deadlineMs === undefined ? [] : [{ key: SluiceDeadline, value: new Date(deadlineMs) }]),
  ]);
  const setPhase = (phase: AuditPhase, next: string) => {
    s.phase = phase;
    upsertSearchAttributes([{ key: SluicePhase, value: phase }]);
    setCurrentDetails(auditDetailsMarkdown(s, next));
  };

  setPhase('snapshot', `read ${o.input} and store it as the night's input`);
  try {
    s.snapshot = await acts.snapshotAuditInput.executeWithOptions({ ...io, summary: `snapshot ${o.input}` }, [
      { jobId, input: o.input, defaults: o.defaults },
    ]);
  } catch (err) {
    s.problem = nonRetryableMessage(err);
  }

  if (s.snapshot && s.snapshot.requestCount === 0) {
    s.problem = `no valid request in ${o.input} (${s.snapshot.rejected} bad lines, see ${s.snapshot.rejectsKey ?? 'rejects'})`;
  } else if (s.snapshot) {
    setPhase('job', `run ${s.snapshot.requestCount} requests as ${jobId}`);
    s.job = await runJob(s.snapshot);
  }

  setPhase(
    'reconcile',
    `compare the account's batches with Sluice's records${o.reconcile.cancelOrphans ? ', cancel orphans' : ''}`,
  );
  const reconcile = await acts.reconcileAccount.executeWithOptions(
    { ...io, summary: `reconcile the account's batches${o.reconcile.cancelOrphans ? ' and cancel orphans' : ''}` },
    [
      {
        ...o.reconcile,
        schedule: o.name,
        stamp: auditStamp(scheduledAtMs),
        auditId: info.workflowId,
        scheduledAt: s.scheduledAt,
        snapshot: s.snapshot,
        job: s.job,
        problem: s.problem,
      },
    ],
  );
  s.reconcile = reconcile;
  if (s.problem) {
    setPhase('failed', 'nothing: see the problem and the report');
    throw ApplicationFailure.nonRetryable(
      `Audit ${o.name}: ${s.problem} (report: ${reconcile.reportKey})`,
      'AuditFailed',
    );
  }
  setPhase('done', 'nothing: the audit is over');
  return { schedule: o.name, scheduledAt: s.scheduledAt, jobId, snapshot: s.snapshot, job: s.job, reconcile };

  async function runJob(snapshot: AuditSnapshot): Promise<AuditJobOutcome | undefined> {
    const spec: JobSpec = {
      jobId,
      name: o.name,
      inputKey: snapshot.inputKey,
      requestCount: snapshot.requestCount,
      options: { ...o.job, sla: { ...o.job.sla, deadlineMs } },
      source: o.input,
      submittedAtMs: Date.now(),
    };
    const child = await startChild(sluiceJob, {
      workflowId: jobId,
      args: [{ spec }],
      // The job finishes (and its batches are collected) even if this audit is terminated.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: new TypedSearchAttributes([
        { key: SluiceJobName, value: o.name },
        { key: SluicePhase, value: 'planning' },
        { key: SluicePriority, value: o.job.priority },
        ...(deadlineMs === undefined ? [] : [{ key: SluiceDeadline, value: new Date(deadlineMs) }]),
      ]),
      staticSummary: jobStaticSummary(spec),
      staticDetails: jobStaticDetails(spec, {
        rejected: snapshot.rejected,
        files: snapshot.files,
        startedBy: info.workflowId,
      }),
    });
    try {
      const { summary } = await child.result();
      return jobOutcomeOf(summary);
    } catch (err) {
      if (!(err instanceof ChildWorkflowFailure)) throw err;
      s.problem = `job ${jobId} failed: ${rootMessage(err)}`;
      return undefined;
    }
  }

  /** The time the run was due (schedule runs); the start time otherwise (started by hand). */
  function scheduledStartMs(): number {
    const typed = info.typedSearchAttributes.get(TemporalScheduledStartTime);
    if (typed instanceof Date && Number.isFinite(typed.getTime())) return typed.getTime();
    // Schedules may set it without the type metadata the typed view needs.
    const legacy = info.searchAttributes?.TemporalScheduledStartTime?.[0];
    const parsedMs = legacy instanceof Date ? legacy.getTime() : typeof legacy === 'string' ? Date.parse(legacy) : NaN;
    return Number.isFinite(parsedMs) ? parsedMs : info.startTime.getTime();
  }
}

/** A non-retryable activity failure (no input) is the night's problem to report; anything else fails the audit. */
function nonRetryableMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.nonRetryable) return cause.message;
  throw err;
}

function rootMessage(err: Error): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
