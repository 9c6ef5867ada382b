/**
 * Following a job from the CLI without ever leaving the user in the dark: it says within seconds when no worker
 * polls the job's task queue (and how to start one), rides out a Temporal server that restarts or is briefly
 * unreachable, and, when it must stop following (Ctrl-C, or the server stays away), says that the job goes on and
 * how to get its results. The job itself never depends on the CLI.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { JobSummary } from '../contracts/activities';
import type { sluiceJob } from '../workflows';
import { SluiceError } from '../domain/errors';

/** How long the CLI keeps trying to reach a server that went away before it stops following. */
export const RECONNECT_FOR_MS = 10 * 60_000;
const RECONNECT_BACKOFF_CAP_MS = 5_000;
/** How long a job may sit without a worker polling its task queue before the CLI says so. */
export const NO_WORKER_GRACE_MS = 3_000;

/** The CLI stopped following; the job goes on. Exit code 130 after Ctrl-C, 1 otherwise. */
export class StoppedFollowingError extends SluiceError {
  override name = 'StoppedFollowingError';
  constructor(
    message: string,
    readonly interrupted: boolean,
  ) {
    super(message);
  }
}

/** What to tell the user about getting a job's results later. */
export function howToGetResults(workflowId: string, outDir: string): string {
  return `The job ${workflowId} goes on without this command. Follow it with \`sluice status ${workflowId}\`; when it is done, \`sluice results ${workflowId} --out ${outDir}\` writes its results.`;
}

/** Whether an error means "the server did not answer" (as opposed to an answer about the workflow). */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof WorkflowFailedError) return false;
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? ''} ${String((err as { cause?: Error })?.cause?.message ?? '')}`;
  const code = (err as { code?: unknown })?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code;
  return code === 14 || code === 4 || /UNAVAILABLE|ECONNREFUSED|ECONNRESET|Failed to connect|Failed to get Workflow execution history|DEADLINE_EXCEEDED|No connection established/i.test(text);
}

export interface WaitOptions {
  address: string;
  log: (line: string) => void;
  /** Settles when the user interrupts (SIGINT/SIGTERM). */
  interrupted: Promise<void>;
  reconnectForMs?: number;
}

/** The job's result, riding out server restarts; throws StoppedFollowingError when it must give up or is interrupted. */
export async function waitRiding(client: Client, workflowId: string, o: WaitOptions): Promise<JobSummary> {
  const handle = client.workflow.getHandle<typeof sluiceJob>(workflowId);
  let lostSinceMs: number | undefined;
  let backoffMs = 250;
  let stop = false;
  const interrupt = o.interrupted.then(() => {
    stop = true;
    throw new StoppedFollowingError('Interrupted.', true);
  });
  interrupt.catch(() => {}); // an interrupt after the result is nobody's error
  for (;;) {
    try {
      const { summary } = await Promise.race([handle.result(), interrupt]);
      return summary;
    } catch (err) {
      if (err instanceof StoppedFollowingError || stop) throw err instanceof StoppedFollowingError ? err : new StoppedFollowingError('Interrupted.', true);
      if (!isUnreachable(err)) throw err;
      const now = Date.now();
      if (lostSinceMs === undefined) {
        lostSinceMs = now;
        o.log(`Lost Temporal at ${o.address}; trying again (the job itself is not affected)...`);
      }
      if (now - lostSinceMs > (o.reconnectForMs ?? RECONNECT_FOR_MS)) {
        throw new StoppedFollowingError(`Temporal at ${o.address} has not answered for ${Math.round((now - lostSinceMs) / 1000)} s.`, false);
      }
      await Promise.race([new Promise((r) => setTimeout(r, backoffMs)), interrupt.catch(() => {})]);
      backoffMs = Math.min(RECONNECT_BACKOFF_CAP_MS, backoffMs * 2);
    }
  }
}

/** Number of workers polling the task queue for workflow tasks (recently seen by the server). */
export async function workflowPollers(client: Client, namespace: string, taskQueue: string): Promise<number> {
  const answer = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return answer.pollers?.length ?? 0;
}

/**
 * Says so when no worker polls `taskQueue` within NO_WORKER_GRACE_MS, and how to start one; says so again
 * when one appears. Resolves when `until` settles.
 */
export async function warnWhileNoWorker(
  client: Client,
  o: { namespace: string; taskQueue: string; address: string; log: (line: string) => void; until: Promise<unknown>; graceMs?: number; everyMs?: number },
): Promise<void> {
  let done = false;
  void o.until.then(
    () => (done = true),
    () => (done = true),
  );
  const pause = (ms: number) => Promise.race([new Promise((r) => setTimeout(r, ms)), o.until.catch(() => {})]);
  const startedMs = Date.now();
  let warned = false;
  while (!done) {
    let pollers: number | undefined;
    try {
      pollers = await workflowPollers(client, o.namespace, o.taskQueue);
    } catch {
      pollers = undefined; // the server may be restarting; waitRiding reports that
    }
    if (pollers === 0 && !warned && Date.now() - startedMs >= (o.graceMs ?? NO_WORKER_GRACE_MS)) {
      warned = true;
      o.log(
        [
          `No worker is polling task queue "${o.taskQueue}" on ${o.address}: the job waits until one does.`,
          '  Start one in another terminal: `sluice worker` (with the same TEMPORAL_*, SLUICE_* and ANTHROPIC_API_KEY settings),',
          '  or `sluice dev` for the embedded stack.',
        ].join('\n'),
      );
    } else if (pollers !== undefined && pollers > 0) {
      if (warned) o.log(`A worker now polls task queue "${o.taskQueue}".`);
      return;
    }
    await pause(o.everyMs ?? 1_000);
  }
}
