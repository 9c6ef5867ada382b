/**
 * Typed helpers for starting and following jobs from your own code (the CLI uses the same ones).
 *
 *   const { workflowId } = await startJob({ client, store, taskQueue: 'sluice', file: 'prompts.jsonl' });
 *   const summary = await waitForJob(client, workflowId);
 */
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { JobSummary } from '../contracts/activities';
import { randomBytes, randomUUID } from 'node:crypto';
import { ConfigError, parseConfig } from '../domain/errors';
import { compileSchema } from '../domain/output-schema';
import { jobKeys, jobWorkflowId, JobOptionsSchema, type JobOptions, type JobOptionsInput, type JobSpec } from '../domain/job';
import type { ModelCatalog } from '../domain/models';
import type { JobDefaults } from '../domain/request';
import type { BlobStore } from '../store/blob-store';
import { cancelSignal, progressQuery, sluiceJob } from '../workflows';
import { setBudgetUpdate, type BudgetView } from '../contracts/messages';
import type { JobProgress } from '../workflows/job-state';
import { SluiceDeadline, SluiceJobName, SluicePhase, SluicePriority } from '../workflows/search-attributes';
import { setupErrorOr } from '../temporal/failures';
import { queryPatiently, type PatienceOptions } from './query-patience';
import { writeJobOutput } from './output-files';
import { prepareInput, type PreparedInput } from './prepare-input';
import type { SourceLine } from './template-input';

export interface StartJobOptions {
  client: Client;
  store: BlobStore;
  taskQueue: string;
  /** The JSONL input file. */
  file: string;
  /** Shown in the Web UI and in the workflow id; defaults to the file's base name. */
  name?: string;
  /** Defaults to sluice-job-<name>-<yyyymmdd-hhmmss>-<random>. An id another job already has is refused. */
  workflowId?: string;
  defaults?: JobDefaults;
  options?: JobOptionsInput;
  skipInvalid?: boolean;
  /**
   * The account's models (readModelCatalog from src/anthropic/model-catalog.ts), to refuse unknown or retired
   * models before the job starts; without it the plan activity checks them once the job runs.
   */
  models?: ModelCatalog;
  /**
   * Runs after the input is validated and stored, before the workflow starts (e.g. to count tokens for a budget and
   * refuse one that cannot send a sub-batch): what it throws refuses the job with nothing started.
   */
  beforeStart?: (job: { jobId: string; prepared: PreparedInput; options: JobOptions; store: BlobStore }) => Promise<void>;
  /**
   * A JSON Schema every answer must satisfy (parsed JSON; implies `options.outputCheck: { expect: 'json' }`).
   * Checked here before anything is written, stored with the job, and applied by the collect activity.
   */
  outputSchema?: unknown;
  /** Names the schema in errors (a file name); default "outputSchema". */
  outputSchemaSource?: string;
  /** Request lines made from rows and a template (templateLines in template-input.ts); `file` is then the rows file. */
  lines?: AsyncIterable<SourceLine>;
}

export interface StartedJob {
  workflowId: string;
  handle: WorkflowHandle<typeof sluiceJob>;
  prepared: PreparedInput;
}

export async function startJob(o: StartJobOptions): Promise<StartedJob> {
  const options = parseConfig(JobOptionsSchema, o.options ?? {});
  checkOutputCheck(o, options);
  const name = o.name ?? path.basename(o.file).replace(/\.[^.]*$/, '');
  const workflowId = o.workflowId ?? jobWorkflowId(name, Date.now(), randomBytes(4).readUInt32BE(0).toString(36).padStart(7, '0'));
  await claimJobPrefix(o.store, workflowId);
  try {
    return await prepareAndStart(o, options, name, workflowId);
  } catch (err) {
    // Refused (bad input, or Temporal already has this id): leave nothing behind under the prefix this run owned.
    await releaseJobPrefix(o.store, workflowId);
    throw err;
  }
}

/** The job's store prefix is this run's alone: claimed exclusively before anything is written under it. */
async function claimJobPrefix(store: BlobStore, jobId: string): Promise<void> {
  const claim = { claimedAtMs: Date.now(), run: randomUUID() };
  // A job started by an older Sluice has an input and no owner record: its id is taken too.
  if ((await store.exists(jobKeys.input(jobId))) || !(await store.createJsonExclusive(jobKeys.owner(jobId), claim))) {
    throw new ConfigError('workflowId', `${jobId} is already the id of another job: refused before anything was written; give another --name or id`);
  }
}

/** A schema must compile (ConfigError naming it and the pointer); `schema: true` needs one; a schema implies the check. */
function checkOutputCheck(o: StartJobOptions, options: JobOptions): void {
  if (o.outputSchema === undefined) {
    if (options.outputCheck?.schema) throw new ConfigError('outputCheck.schema', 'is true, but no outputSchema was given');
    return;
  }
  compileSchema(o.outputSchema, o.outputSchemaSource ?? 'outputSchema');
  options.outputCheck = { expect: 'json', schema: true };
}

/** A canary must leave something to protect: one as large as the job would be the job itself. */
function checkCanary(options: JobOptions, requestCount: number): void {
  const n = options.canary?.requests;
  if (n === undefined || n < requestCount) return;
  throw new ConfigError('canary', `${n} requests is not smaller than the job (${requestCount} requests): a canary is the first few requests, sent before the rest; give a smaller N`);
}

async function releaseJobPrefix(store: BlobStore, jobId: string): Promise<void> {
  await store.delete(jobKeys.outputSchema(jobId));
  await store.delete(jobKeys.input(jobId));
  await store.delete(jobKeys.rejects(jobId));
  await store.delete(jobKeys.tokenCounts(jobId));
  await store.delete(jobKeys.owner(jobId));
}

async function prepareAndStart(o: StartJobOptions, options: JobOptions, name: string, workflowId: string): Promise<StartedJob> {
  const prepared = await prepareInput({
    file: o.file,
    jobId: workflowId,
    store: o.store,
    defaults: o.defaults,
    skipInvalid: o.skipInvalid,
    models: o.models,
    lines: o.lines,
  });
  checkCanary(options, prepared.requestCount);
  if (o.outputSchema !== undefined) await o.store.writeJson(jobKeys.outputSchema(workflowId), o.outputSchema);
  await o.beforeStart?.({ jobId: workflowId, prepared, options, store: o.store });
  const spec: JobSpec = {
    jobId: workflowId,
    name,
    inputKey: prepared.inputKey,
    requestCount: prepared.requestCount,
    options,
    source: path.resolve(o.file),
    submittedAtMs: Date.now(),
  };
  // A cluster without the namespace or Sluice's search attributes: one line that names `sluice setup`.
  const handle = await o.client.workflow.start(sluiceJob, {
    workflowId,
    taskQueue: o.taskQueue,
    args: [{ spec }],
    typedSearchAttributes: new TypedSearchAttributes([
      { key: SluiceJobName, value: name },
      { key: SluicePhase, value: 'planning' },
      { key: SluicePriority, value: options.priority },
      ...(options.sla.deadlineMs === undefined ? [] : [{ key: SluiceDeadline, value: new Date(options.sla.deadlineMs) }]),
    ]),
    staticSummary: `Sluice job "${name}": ${prepared.requestCount} requests in sub-batches of ${options.batchSize}`,
    staticDetails: [
      `**Input** ${path.basename(o.file)} (${prepared.requestCount} requests${prepared.rejected ? `, ${prepared.rejected} rejected` : ''})`,
      `**Sub-batches** of ${options.batchSize}, up to ${options.maxBatchesInFlight} in flight; priority ${options.priority}`,
      `**Attempts** at most ${options.maxAttempts} per request`,
      ...(options.canary ? [`**Canary** the first ${options.canary.requests} requests alone; stop if more than ${options.canary.maxFailurePercent} % fail`] : []),
      ...(options.outputCheck ? [`**Output check** answers must be JSON${options.outputCheck.schema ? ' matching the job\'s schema' : ''}`] : []),
      ...(options.sla.deadlineMs === undefined
        ? []
        : [`**Deadline** ${new Date(options.sla.deadlineMs).toISOString()} (window ${options.sla.windowMs} ms, margin ${options.sla.marginMs} ms, sync fallback ${options.sla.syncFallback ? 'on' : 'off'})`]),
      `**Output** ${jobKeys.output(workflowId, 'results.jsonl')} in the store`,
    ].join('\n\n'),
  }).catch((err: unknown) => {
    throw setupErrorOr(err, o.client.options.namespace);
  });
  return { workflowId, handle, prepared };
}

/** With `patience`, asks again while no worker has answered yet (query-patience.ts), then NoWorkerAnsweredError. */
export function jobProgress(client: Client, workflowId: string, patience?: PatienceOptions): Promise<JobProgress> {
  const ask = () => client.workflow.getHandle(workflowId).query(progressQuery);
  return patience ? queryPatiently(client, { what: `job ${workflowId}`, workflowId }, patience, ask) : ask();
}

export async function cancelJob(client: Client, workflowId: string): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(cancelSignal);
}

/**
 * Sets a running job's budget (in USD); the job sends what the new limit allows. Refused, with the job's reason, below
 * what it has spent and reserved, or for a job started without a budget.
 */
export async function setJobBudget(client: Client, workflowId: string, budgetUsd: number): Promise<BudgetView> {
  return client.workflow.getHandle(workflowId).executeUpdate(setBudgetUpdate, { args: [{ budgetUsd }] });
}

export async function waitForJob(client: Client, workflowId: string): Promise<JobSummary> {
  const { summary } = await client.workflow.getHandle<typeof sluiceJob>(workflowId).result();
  return summary;
}

/** Copies a finished job's output files from the store into a directory. */
export async function downloadResults(store: BlobStore, jobId: string, outDir: string): Promise<string[]> {
  // Through temporary files and renames: never written through a link, never half a file (src/client/output-files.ts).
  return writeJobOutput(store, jobId, outDir);
}
