/**
 * Typed helpers for starting and following jobs from your own code (the CLI uses the same ones).
 *
 *   const { workflowId } = await startJob({ client, store, taskQueue: 'sluice', file: 'prompts.jsonl' });
 *   const summary = await waitForJob(client, workflowId);
 */
import path from 'node:path';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { JobSummary } from '../activities/finalize';
import { parseConfig } from '../domain/errors';
import { jobKeys, jobWorkflowId, JobOptionsSchema, type JobOptionsInput, type JobSpec } from '../domain/job';
import type { JobDefaults } from '../domain/request';
import type { BlobStore } from '../store/blob-store';
import { cancelSignal, progressQuery, sluiceJob } from '../workflows';
import type { JobProgress } from '../workflows/job-state';
import { SluiceDeadline, SluiceJobName, SluicePhase, SluicePriority } from '../workflows/search-attributes';
import { setupErrorOr } from '../temporal/failures';
import { prepareInput, type PreparedInput } from './prepare-input';

export interface StartJobOptions {
  client: Client;
  store: BlobStore;
  taskQueue: string;
  /** The JSONL input file. */
  file: string;
  /** Shown in the Web UI and in the workflow id; defaults to the file's base name. */
  name?: string;
  /** Defaults to sluice-job-<name>-<yyyymmdd-hhmmss>. */
  workflowId?: string;
  defaults?: JobDefaults;
  options?: JobOptionsInput;
  skipInvalid?: boolean;
}

export interface StartedJob {
  workflowId: string;
  handle: WorkflowHandle<typeof sluiceJob>;
  prepared: PreparedInput;
}

export async function startJob(o: StartJobOptions): Promise<StartedJob> {
  const options = parseConfig(JobOptionsSchema, o.options ?? {});
  const name = o.name ?? path.basename(o.file).replace(/\.[^.]*$/, '');
  const workflowId = o.workflowId ?? jobWorkflowId(name, Date.now());
  const prepared = await prepareInput({
    file: o.file,
    jobId: workflowId,
    store: o.store,
    defaults: o.defaults,
    skipInvalid: o.skipInvalid,
  });
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

export function jobProgress(client: Client, workflowId: string): Promise<JobProgress> {
  return client.workflow.getHandle(workflowId).query(progressQuery);
}

export async function cancelJob(client: Client, workflowId: string): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(cancelSignal);
}

export async function waitForJob(client: Client, workflowId: string): Promise<JobSummary> {
  const { summary } = await client.workflow.getHandle<typeof sluiceJob>(workflowId).result();
  return summary;
}

/** Copies a finished job's output files from the store into a directory. */
export async function downloadResults(store: BlobStore, jobId: string, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const file of ['results.jsonl', 'failures.jsonl'] as const) {
    const target = path.join(outDir, file);
    const out = createWriteStream(target);
    for await (const line of store.readLines(jobKeys.output(jobId, file))) {
      if (!out.write(line + '\n')) await once(out, 'drain');
    }
    out.end();
    await finished(out);
    written.push(target);
  }
  const summary = await store.readJson(jobKeys.output(jobId, 'summary.json'));
  const summaryPath = path.join(outDir, 'summary.json');
  await writeFile(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  written.push(summaryPath);
  return written;
}
