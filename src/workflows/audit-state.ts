/**
 * The audit workflow's state and the views of it users see: the Web UI's current details, and the static summary
 * and details of the job it starts (the same words `sluice run` gives its jobs).
 */
import type { JobSummary } from '../contracts/activities';
import { formatDuration } from '../domain/duration';
import { jobKeys, type JobSpec } from '../domain/job';
import type { AuditJobOutcome, AuditState } from '../contracts/messages';

export function jobOutcomeOf(s: JobSummary): AuditJobOutcome {
  return {
    jobId: s.jobId,
    requests: s.requests,
    succeeded: s.outcomes.succeeded,
    failed: s.outcomes.failed,
    canceled: s.outcomes.canceled,
    notRun: s.outcomes.not_run + s.outcomes.sla_missed,
    costUsd: s.costUsd,
    savedUsd: s.savedUsd,
    batchesCreated: s.batchesCreated,
    wallTimeMs: s.wallTimeMs,
  };
}

/** The markdown table shown as the audit's current details in the Web UI. */
export function auditDetailsMarkdown(s: AuditState, next: string): string {
  const snap = s.snapshot;
  const job = s.job;
  const rec = s.reconcile;
  return [
    '| | |',
    '|---|---|',
    `| phase | ${s.phase} |`,
    `| schedule | ${s.schedule}, run due ${s.scheduledAt} |`,
    `| input | \`${s.input}\`${snap ? `: ${count(snap.files, 'file')}, ${count(snap.requestCount, 'request')}${snap.rejected ? `, ${count(snap.rejected, 'bad line')} skipped` : ''}` : ''} |`,
    `| job | ${s.jobId}${job ? `: ${job.succeeded} of ${job.requests} succeeded, ${job.failed} failed, USD ${job.costUsd.toFixed(4)}, ${formatDuration(job.wallTimeMs)}` : ''} |`,
    ...(rec
      ? [
          `| batches | ${rec.listed} listed, ${rec.recorded} recorded by Sluice |`,
          `| orphans | ${rec.orphanCount}${rec.canceledOrphans ? ` (${rec.canceledOrphans} canceled)` : ''}${rec.young ? `; ${rec.young} too young to judge` : ''} |`,
          `| uncollected | ${rec.uncollectedCount} copied${rec.alreadyCopied ? `, ${rec.alreadyCopied} copied before` : ''} |`,
          `| report | ${rec.reportKey} |`,
        ]
      : []),
    ...(s.problem ? [`| problem | **${s.problem}** |`] : []),
    `| next | ${next} |`,
  ].join('\n');
}

/** Markdown in the Web UI would turn "3/3" into a fraction and `<x>` into a tag: words only. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function jobStaticSummary(spec: JobSpec): string {
  return `Sluice job "${spec.name}": ${spec.requestCount} requests in sub-batches of ${spec.options.batchSize}`;
}

export function jobStaticDetails(spec: JobSpec, extra: { rejected: number; files: number; startedBy: string }): string {
  const o = spec.options;
  return [
    `**Input** snapshot of \`${spec.source ?? spec.inputKey}\` (${count(extra.files, 'file')}, ${count(spec.requestCount, 'request')}${extra.rejected ? `, ${extra.rejected} rejected` : ''})`,
    `**Started by** audit ${extra.startedBy}`,
    `**Sub-batches** of ${o.batchSize}, up to ${o.maxBatchesInFlight} in flight; priority ${o.priority}`,
    `**Attempts** at most ${o.maxAttempts} per request`,
    ...(o.sla.deadlineMs === undefined
      ? []
      : [
          `**Deadline** ${new Date(o.sla.deadlineMs).toISOString()} (window ${formatDuration(o.sla.windowMs)}, margin ${formatDuration(o.sla.marginMs)})`,
        ]),
    `**Output** ${jobKeys.output(spec.jobId, 'results.jsonl')} in the store`,
  ].join('\n\n');
}
