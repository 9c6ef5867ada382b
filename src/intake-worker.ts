/**
 * The intake's own worker: with SLUICE_INTAKE_TASK_QUEUE set, intakes run on that queue, served by a second Worker
 * in the worker process. Their workflow tasks get a workflow thread of their own and their activities slots of
 * their own, so an enqueue no longer waits in line behind the sub-batch jobs' tasks (a Worker runs every workflow
 * task on one thread: with hundreds of jobs beside it, an intake's task waited for theirs). The sub-batch jobs an
 * intake cuts run on the jobs' queue, and so do its cuts and merges (patch intake-bulk-on-job-queue).
 */
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { SluicePlugin } from './plugin/sluice-plugin';
import { eagerFriendlyActivityPolling } from './temporal/activity-polling';

/** What the intake worker shares with the job worker (SluiceWorkerOptions), and its queue. */
export interface IntakeWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  workflowBundlePath?: string;
  intakeTaskQueue: string;
}

/** Few slots: one admission runs at a time per intake (a local activity), with its recordings, sweeps and job starts. */
const INTAKE_ACTIVITY_SLOTS = 16;
const INTAKE_WORKFLOW_CACHE = 50;

export function createIntakeWorker(o: IntakeWorkerOptions, plugin: SluicePlugin): Promise<Worker> {
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.intakeTaskQueue,
    workflowBundle: o.workflowBundlePath ? { codePath: o.workflowBundlePath } : undefined,
    maxConcurrentActivityTaskExecutions: INTAKE_ACTIVITY_SLOTS,
    // An admission dispatched eagerly answers its enqueue without a trip through matching.
    ...eagerFriendlyActivityPolling(INTAKE_ACTIVITY_SLOTS),
    maxCachedWorkflows: INTAKE_WORKFLOW_CACHE,
    plugins: [plugin],
  });
}
