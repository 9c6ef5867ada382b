/**
 * The synchronous lane of a job: sub-batches sent through the Messages API beside the polling loop (synchronous
 * calls take minutes, and batches in flight still need polling), and sub-batches reported sla_missed when there
 * is no fallback. A failed synchronous sub-batch stops the job at the loop's next round.
 */
import type { JobSpec, ShardRef } from '../domain/job';
import { acts, longFor, short } from './job-activities';
import type { JobState } from './job-state';
import { syncShardDone } from './job-transitions';

export type SyncLane = ReturnType<typeof syncLane>;

export function syncLane(spec: JobSpec, s: JobState, wake: () => void) {
  const sla = spec.options.sla;
  const long = longFor(spec.options);
  let failure: Error | undefined;
  return {
    start(shard: ShardRef) {
      s.syncInFlight.push(shard);
      acts.runSync
        .executeWithOptions({ ...long, summary: `send ${shard.requests} requests of ${shard.key} synchronously` }, [
          {
            jobId: spec.jobId,
            shardKey: shard.key,
            concurrency: sla.syncConcurrency,
            ...(spec.options.outputCheck && { outputCheck: spec.options.outputCheck, maxAttempts: spec.options.maxAttempts }),
          },
        ])
        .then((r) => syncShardDone(s, shard, r))
        .catch((err: unknown) => (failure = err instanceof Error ? err : new Error(String(err))))
        .finally(() => {
          s.syncInFlight = s.syncInFlight.filter((x) => x.key !== shard.key);
          wake();
        });
    },
    async markMissed(shard: ShardRef) {
      const { requests } = await acts.markSlaMissed.executeWithOptions(
        { ...short, summary: `mark ${shard.requests} requests of ${shard.key} sla_missed` },
        [
          {
            jobId: spec.jobId,
            shardKey: shard.key,
            reason: 'past the latest batch submission, and synchronous fallback is off',
          },
        ],
      );
      s.slaMissed += requests;
    },
    /** Nothing may run on while a synchronous sub-batch failed (e.g. a fatal API answer): its error ends the job. */
    throwIfFailed() {
      if (failure) throw failure;
    },
  };
}
