/** Typed helpers for the shared batch queue: priorities, pause and resume, and the scheduler's view. */
import type { Client } from '@temporalio/client';
import { queryPatiently, type PatienceOptions } from './query-patience';
import { pauseSignal, queueQuery, resumeSignal, schedulerWorkflowId, setPrioritySignal, type QueueView } from '../workflows';

export async function setJobPriority(client: Client, jobId: string, priority: number): Promise<void> {
  if (!Number.isInteger(priority) || priority < 1) throw new RangeError(`priority must be a whole number ≥ 1 (got ${priority})`);
  await client.workflow.getHandle(jobId).signal(setPrioritySignal, { priority });
}

export async function pauseJob(client: Client, jobId: string): Promise<void> {
  await client.workflow.getHandle(jobId).signal(pauseSignal);
}

export async function resumeJob(client: Client, jobId: string): Promise<void> {
  await client.workflow.getHandle(jobId).signal(resumeSignal);
}

/**
 * The scheduler's view for the jobs of a task queue, or undefined when none runs (no job has asked for room). The
 * scheduler is one per API key and runs on the task queue of the job that started it; the client does not know the
 * key, so it finds the running scheduler on that task queue (Temporal's visibility, a moment behind), else the one
 * that runs under the task queue's old per-queue id.
 */
export async function queueView(client: Client, taskQueue: string, patience?: PatienceOptions): Promise<QueueView | undefined> {
  const ask = (workflowId: string) => {
    const send = () => client.workflow.getHandle(workflowId).query(queueQuery);
    return patience ? queryPatiently(client, { what: `the scheduler ${workflowId}`, workflowId }, patience, send) : send();
  };
  const query = `WorkflowType = 'sluiceScheduler' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue.replace(/'/g, "\\'")}'`;
  for await (const run of client.workflow.list({ query, pageSize: 1 })) {
    return await ask(run.workflowId);
  }
  try {
    return await ask(schedulerWorkflowId(taskQueue));
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return undefined;
    throw err;
  }
}
