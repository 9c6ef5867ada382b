/**
 * Runs a workflow query, and when no worker has answered it yet (none polls the queue, or the one that held the
 * workflow was killed and the server has not moved the workflow off it), asks again with backoff for a bounded time.
 * Right after a worker dies the server first waits out the dead worker's sticky queue before giving the query to
 * another, so one ask may not be enough; an answer about the workflow itself (it does not exist, it does not know
 * the query) is final and never asked again.
 */
import type { Client } from '@temporalio/client';
import { SluiceError } from '../domain/errors';
import { causeMessages, grpcCode } from '../temporal/cluster-check';

export const DEFAULT_QUERY_PATIENCE_MS = 30_000;
const FIRST_BACKOFF_MS = 250;
const BACKOFF_CAP_MS = 2_000;
/** A first ask still unanswered after this long: the user is told why the command waits. */
const NOTICE_AFTER_MS = 1_000;
const DESCRIBE_WAIT_MS = 3_000;

const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_FAILED_PRECONDITION = 9;
const GRPC_UNAVAILABLE = 14;

/** What was asked, for the messages. */
export interface QueryTarget {
  /** e.g. `job sluice-job-a-…` or `intake orders`. */
  what: string;
  /** The workflow asked: its task queue (described when giving up) is named in the error. */
  workflowId: string;
}

export interface PatienceOptions {
  /** How long to keep asking (ms); 0 asks once. */
  patienceMs: number;
  /** Where the one "asking again" line goes (the CLI passes stderr). */
  log?: (line: string) => void;
}

/** No worker answered a query within the patience: names what was asked and what to check, never a stack. */
export class NoWorkerAnsweredError extends SluiceError {
  override name = 'NoWorkerAnsweredError';
  constructor(
    readonly target: QueryTarget,
    readonly taskQueue: string | undefined,
    readonly waitedMs: number,
    cause: unknown,
  ) {
    const queue = taskQueue ? `task queue "${taskQueue}"` : 'its task queue';
    super(
      `No worker answered a query to ${target.what} within ${seconds(waitedMs)} s. ` +
        `Is a worker running on ${queue}? Start one with \`sluice worker\` (the same TEMPORAL_* and SLUICE_* settings); ` +
        'if one was just stopped or killed, the server gives the workflow to another worker once its sticky timeout passes: ask again then.',
      { cause },
    );
  }
}

/**
 * Whether a query's error means "no worker answered yet": the server's query timeout (DEADLINE_EXCEEDED, "query
 * timed out before a worker could process it"), a query cancelled with the worker that held it (CANCELLED), the
 * server briefly unavailable, or a workflow task that has not completed or failed (FAILED_PRECONDITION: a worker
 * must run it first). Not: the workflow or namespace does not
 * exist (NOT_FOUND), an unknown query (QueryNotRegisteredError, INVALID_ARGUMENT), a query the workflow rejected, or
 * an error the workflow's query handler threw.
 */
export function isNoAnswerYet(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  if (name === 'WorkflowNotFoundError' || name === 'QueryNotRegisteredError' || name === 'QueryRejectedError' || name === 'NamespaceNotFoundError') {
    return false;
  }
  const code = grpcCode(err);
  // CANCELLED ("Call cancelled") is what a query answers right after its job's worker was SIGKILLed; the SDK itself
  // treats it like DEADLINE_EXCEEDED for updates. This helper cancels no query of its own.
  if (code === GRPC_DEADLINE_EXCEEDED || code === GRPC_CANCELLED || code === GRPC_UNAVAILABLE) return true;
  if (code === GRPC_FAILED_PRECONDITION) return /workflow task|not ready|sticky|worker/i.test(causeMessages(err));
  return false;
}

/** `ask()` with patience: retried on isNoAnswerYet errors until `patienceMs` has passed, then NoWorkerAnsweredError. */
export async function queryPatiently<T>(client: Client, target: QueryTarget, o: PatienceOptions, ask: () => Promise<T>): Promise<T> {
  const startedMs = Date.now();
  const endMs = startedMs + o.patienceMs;
  let noticed = false;
  const notice = () => {
    if (noticed || o.patienceMs <= 0) return;
    noticed = true;
    o.log?.(`${target.what}: no worker has answered yet; asking again for up to ${seconds(o.patienceMs)} s`);
  };
  let backoffMs = FIRST_BACKOFF_MS;
  for (let attempt = 0; ; attempt++) {
    // Each ask may last what is left of the patience: the server itself holds a query until a worker takes it.
    const timer = attempt === 0 ? setTimeout(notice, NOTICE_AFTER_MS) : undefined;
    try {
      const remainingMs = Math.max(endMs - Date.now(), FIRST_BACKOFF_MS);
      return await client.withDeadline(Date.now() + remainingMs, ask);
    } catch (err) {
      if (!isNoAnswerYet(err)) throw err;
      if (Date.now() + backoffMs >= endMs) throw new NoWorkerAnsweredError(target, await taskQueueOf(client, target.workflowId), Date.now() - startedMs, err);
      notice();
    } finally {
      clearTimeout(timer);
    }
    await new Promise((r) => setTimeout(r, backoffMs));
    backoffMs = Math.min(BACKOFF_CAP_MS, backoffMs * 2);
  }
}

/** The workflow's task queue, from the server's record (no worker needed), or undefined when that fails too. */
async function taskQueueOf(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    return (await client.withDeadline(Date.now() + DESCRIBE_WAIT_MS, () => client.workflow.getHandle(workflowId).describe())).taskQueue;
  } catch {
    return undefined;
  }
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
