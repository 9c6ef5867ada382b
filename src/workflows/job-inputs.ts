/**
 * What the job hands its plan and finalize activities, built from its spec, options and state: pure, so the loop in
 * job.ts reads as the process and these shapes are tested without a server.
 */
import type { FinalizeInput, PlanInput } from '../contracts/activities';
import { canaryReport } from '../domain/canary';
import type { JobOptions, JobSpec } from '../domain/job';
import { budgetViewOf } from './job-budget';
import { canaryStopped } from './job-canary';
import type { JobState } from './job-state';

export function planInputOf(spec: JobSpec, opts: JobOptions, s: JobState): PlanInput {
  const sla = spec.options.sla;
  return {
    jobId: spec.jobId,
    inputKey: spec.inputKey,
    batchSize: opts.batchSize,
    ...(opts.canary && { firstShardSize: opts.canary.requests }),
    ...(opts.cachePrefix ? { cachePrefix: opts.cachePrefix } : {}),
    ...(sla.window === 'learned' ? { learnWindow: { fixedWindowMs: sla.windowMs, options: sla.learn } } : {}),
    ...(s.budget ? { priceWorstCase: true } : {}),
  };
}

export function finalizeInputOf(spec: JobSpec, opts: JobOptions, s: JobState, jobCanceled: boolean): FinalizeInput {
  return {
    jobId: spec.jobId,
    name: spec.name,
    shardCount: s.shardSizes.length,
    jobCanceled,
    stoppedEarly: s.fatalError !== undefined || canaryStopped(s),
    ...(s.canary && { canary: canaryReport(s.canary) }),
    ...(opts.outputCheck && { outputChecked: true }),
    startedAtMs: spec.submittedAtMs ?? s.startedAtMs,
    batchesCreated: s.batchesCreated,
    apiCalls: s.apiCalls,
    ...(s.budget ? { budget: budgetViewOf(s) } : {}),
  };
}
