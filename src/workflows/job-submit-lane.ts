/**
 * The submit lane of a job (runs that took the `overlap-submit-collect` patch): the shards the decisions pick are
 * queued here and created a few at a time beside the polling loop, as the sync lane runs synchronous sub-batches,
 * so batches created early are polled and collected while a long run of creates goes on. Still one submit
 * activity per sub-batch. While a shard waits here or its create runs, it is in `s.submitting` (the decisions
 * count it as out). A fatal answer stops the lane: what has not started is dropped, and the error ends the job at
 * the loop's next round, once the creates already running have answered.
 */
import type { ShardRef } from '../domain/job';
import type { JobState } from './job-state';

export type SubmitLane = ReturnType<typeof submitLane>;

export function submitLane(s: JobState, concurrency: number, submitOne: (shard: ShardRef) => Promise<void>, wake: () => void) {
  const waiting: ShardRef[] = [];
  let running = 0;
  let failure: Error | undefined;
  const settled = (shard: ShardRef) => {
    s.submitting = (s.submitting ?? []).filter((x) => x.key !== shard.key);
  };
  const drop = () => waiting.splice(0).forEach(settled);
  const lane = async () => {
    running++;
    try {
      for (let shard = waiting.shift(); shard !== undefined; shard = waiting.shift()) {
        try {
          await submitOne(shard);
        } catch (err) {
          failure ??= err instanceof Error ? err : new Error(String(err));
          drop();
        } finally {
          settled(shard);
        }
      }
    } finally {
      running--;
      // Idle (or stopped): the loop may finish, continue as new, or end the job with the failure.
      if (running === 0) wake();
    }
  };
  return {
    /** Queues the picks and starts lanes up to the concurrency. */
    enqueue(picks: readonly ShardRef[]) {
      if (failure !== undefined || picks.length === 0) return;
      s.submitting = [...(s.submitting ?? []), ...picks];
      waiting.push(...picks);
      const start = Math.min(concurrency - running, waiting.length);
      for (let i = 0; i < start; i++) void lane();
    },
    /** A cancel: shards whose create has not started are not sent (finalize reports them canceled). */
    dropWaiting: drop,
    idle: () => running === 0,
    /** A fatal create answer ends the job, once no create of this lane is still running. */
    throwIfFailed() {
      if (failure !== undefined && running === 0) throw failure;
    },
  };
}

/**
 * The same lane with fewer promises per create (runs that took the `submit-lane-by-callbacks` patch, job.ts): each
 * create's answer is taken by one callback that records it and starts the next create, not by an async loop that
 * awaits an async function. The SDK records a source-mapped stack trace for every promise a workflow makes (for the
 * stack trace query), and with a thousand creates a job's promises were most of its workflow thread's time: four per
 * create became two. The callbacks run at other microtask turns than the loop's awaits, so the commands of one
 * activation may come in another order: hence the patch, with submitLane kept for the runs before it.
 */
export function submitLaneByCallbacks<R>(
  s: JobState,
  concurrency: number,
  create: (shard: ShardRef) => Promise<R>,
  created: (shard: ShardRef, r: R) => void,
  wake: () => void,
) {
  const waiting: ShardRef[] = [];
  let running = 0;
  let failure: Error | undefined;
  const settled = (shard: ShardRef) => {
    s.submitting = (s.submitting ?? []).filter((x) => x.key !== shard.key);
  };
  const drop = () => waiting.splice(0).forEach(settled);
  const fail = (err: unknown) => {
    failure ??= err instanceof Error ? err : new Error(String(err));
    drop();
  };
  const answered = (shard: ShardRef) => {
    settled(shard);
    next();
  };
  const next = (): void => {
    const shard = waiting.shift();
    if (shard === undefined) {
      running--;
      // Idle (or stopped): the loop may finish, continue as new, or end the job with the failure.
      if (running === 0) wake();
      return;
    }
    let call: Promise<R>;
    try {
      call = create(shard);
    } catch (err) {
      call = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    void call.then(
      (r) => {
        try {
          created(shard, r);
        } catch (err) {
          fail(err);
        }
        answered(shard);
      },
      (err: unknown) => {
        fail(err);
        answered(shard);
      },
    );
  };
  return {
    /** Queues the picks and starts creates up to the concurrency. */
    enqueue(picks: readonly ShardRef[]) {
      if (failure !== undefined || picks.length === 0) return;
      s.submitting = [...(s.submitting ?? []), ...picks];
      waiting.push(...picks);
      const start = Math.min(concurrency - running, waiting.length);
      for (let i = 0; i < start; i++) {
        running++;
        next();
      }
    },
    /** A cancel: shards whose create has not started are not sent (finalize reports them canceled). */
    dropWaiting: drop,
    idle: () => running === 0,
    /** A fatal create answer ends the job, once no create of this lane is still running. */
    throwIfFailed() {
      if (failure !== undefined && running === 0) throw failure;
    },
  };
}
