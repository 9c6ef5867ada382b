/**
 * A Sluice job started from a user's own workflow, as a child workflow that the user's workflow awaits, signals,
 * queries and cancels. The requests reach the store through the `stageRequests` activity (a file or URL read where
 * the worker runs) or were staged before: the user's history holds a store key and counts, never a prompt.
 *
 *   const summary = await runSluiceJob({ name: 'nightly', input: { file: '/data/prompts.jsonl' } });
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  uuid4,
  workflowInfo,
  type ActivityOptions,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { TypedSearchAttributes } from '@temporalio/common';
import type { JobSummary, SluiceActivities, StagedInput, StageSource } from '../contracts/activities';
import { jobWorkflowId, JobOptionsSchema, type JobOptionsInput, type JobSpec } from '../domain/job';
import type { JobDefaults } from '../domain/request';
import { jobStaticSummary } from './audit-state';
import { cancelSignal } from '../contracts/messages';
import { sluiceJob } from './job';
import type { JobProgress } from './job-state';
import { SluiceDeadline, SluiceJobName, SluicePhase, SluicePriority } from './search-attributes';

export interface SluiceChildJobOptions {
  /** Shown in the Web UI and in the job id. */
  name: string;
  /** A file or http(s) URL the worker reads, or input staged before (e.g. by the `stageRequests` activity). */
  input: StageSource | { staged: StagedInput };
  /** Defaults to sluice-job-<name>-<yyyymmdd-hhmmss>-<8 hex>, unique even for jobs started at the same moment. */
  jobId?: string;
  /** Filled into every request that leaves them out (model, max_tokens, system, temperature). */
  defaults?: JobDefaults;
  /** The job's options, as `startJob` takes them; validated here, before anything is stored. */
  options?: JobOptionsInput;
  /** Run the valid lines and store the bad ones in rejects.jsonl (default: refuse the whole input). */
  skipInvalid?: boolean;
  /**
   * Default ABANDON: the job runs to its end, and its batches are collected, even when the parent ends first.
   * TERMINATE would leave paid batches uncollected.
   */
  parentClosePolicy?: ParentClosePolicy;
}

export interface SluiceChildJob {
  jobId: string;
  staged: StagedInput;
  /** For signals of your own: `handle.signal(setPrioritySignal, { priority: 1 })`, pauseSignal, resumeSignal. */
  handle: ChildWorkflowHandle<typeof sluiceJob>;
  /**
   * The job's summary when it ends. If the calling scope is canceled first, the job is told to cancel (its
   * batches are canceled, what finished is kept) and the CancelledFailure is rethrown.
   */
  result(): Promise<JobSummary>;
  /** Cancels the job's batches in flight; the job then ends with what it has, and result() gives its summary. */
  cancel(): Promise<void>;
  /** The job's progress query, answered through an activity (a workflow cannot query another one itself). */
  progress(): Promise<JobProgress>;
}

/** A whole input file can take minutes to validate and store; a query is quick. */
const stageOptions: ActivityOptions = {
  startToCloseTimeout: '30m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
};
const stage = proxyActivities<SluiceActivities>(stageOptions);
const quick = proxyActivities<SluiceActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 5 } });

export async function startSluiceJob(o: SluiceChildJobOptions): Promise<SluiceChildJob> {
  const parsed = JobOptionsSchema.safeParse(o.options ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `options.${i.path.join('.')}: ${i.message}`).join('; ');
    throw ApplicationFailure.nonRetryable(`Sluice job "${o.name}": ${issues}`, 'SluiceBadOptions');
  }
  const options = parsed.data;
  const jobId = o.jobId ?? `${jobWorkflowId(o.name, Date.now())}-${uuid4().slice(0, 8)}`;
  const staged =
    'staged' in o.input
      ? o.input.staged
      : await stage.stageRequests.executeWithOptions(
          { ...stageOptions, summary: `stage the requests of ${jobId}` },
          [{ jobId, source: o.input, defaults: o.defaults, skipInvalid: o.skipInvalid }],
        );
  const spec: JobSpec = {
    jobId,
    name: o.name,
    inputKey: staged.inputKey,
    requestCount: staged.requestCount,
    options,
    source: staged.source,
    submittedAtMs: Date.now(),
  };
  const deadlineMs = options.sla.deadlineMs;
  // Started outside the caller's scope, so canceling the caller never cancels the job the Temporal way (which
  // would stop it mid-flight without collecting): result() turns the caller's cancellation into the cancel signal.
  const handle = await CancellationScope.nonCancellable(() =>
    startChild(sluiceJob, {
      workflowId: jobId,
      args: [{ spec }],
      parentClosePolicy: o.parentClosePolicy ?? ParentClosePolicy.ABANDON,
      typedSearchAttributes: new TypedSearchAttributes([
        { key: SluiceJobName, value: o.name },
        { key: SluicePhase, value: 'planning' },
        { key: SluicePriority, value: options.priority },
        ...(deadlineMs === undefined ? [] : [{ key: SluiceDeadline, value: new Date(deadlineMs) }]),
      ]),
      staticSummary: jobStaticSummary(spec),
      staticDetails: `**Input** \`${staged.source}\` (${staged.requestCount} requests${staged.rejected ? `, ${staged.rejected} rejected` : ''})\n\n**Started by** workflow ${workflowInfo().workflowId}`,
    }),
  );

  return {
    jobId,
    staged,
    handle,
    async result() {
      try {
        const done = await Promise.race([handle.result(), CancellationScope.current().cancelRequested]);
        return done.summary;
      } catch (err) {
        if (isCancellation(err)) await CancellationScope.nonCancellable(() => handle.signal(cancelSignal));
        throw err;
      }
    },
    cancel: () => handle.signal(cancelSignal),
    progress: () => quick.sluiceJobProgress({ jobId }),
  };
}

/** Starts a Sluice job as a child workflow and waits for its summary. */
export async function runSluiceJob(o: SluiceChildJobOptions): Promise<JobSummary> {
  const job = await startSluiceJob(o);
  return job.result();
}
