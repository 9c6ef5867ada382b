/**
 * The batch lane of a job: create sub-batches, poll every batch in flight in one activity, collect those that
 * ended, cancel the ones the decisions name. Only I/O through activities and the state updates that follow.
 */
import type { JobSpec, ShardRef } from '../domain/job';
import { mapLimit } from '../domain/map-limit';
import { submissionLabel } from './job-decisions';
import { acts, longFor, short, submitOptions } from './job-activities';
import type { QueueSeat } from './job-queue';
import type { InFlightBatch, JobState } from './job-state';
import { batchCollected, batchCreated, collectedRound, countCall } from './job-transitions';
import { canaryCollectInput, canaryCollected } from './job-canary';

export type BatchLane = ReturnType<typeof batchLane>;

/** A batch in flight that the API reports ended, with where its results are. */
export interface EndedBatch {
  batch: InFlightBatch;
  resultsUrl?: string;
}

export function batchLane(spec: JobSpec, s: JobState, seat: QueueSeat) {
  const opts = spec.options;
  const long = longFor(opts);

  async function submitOne(shard: ShardRef) {
    const r = await acts.submitBatch.executeWithOptions(
      { ...submitOptions, summary: `submit ${submissionLabel(shard, s.shardSizes.length)} (${shard.requests} requests)` },
      [{ jobId: spec.jobId, shardKey: shard.key }],
    );
    batchCreated(s, { batchId: r.batchId, shardKey: shard.key, requests: r.requests, submittedAtMs: r.createdAtMs });
  }

  /** Asks the API (or, later, the account's poller) which of the batches in flight ended, and where their results are. */
  async function findEnded(slaAtRisk?: boolean): Promise<EndedBatch[]> {
    const batches = s.inFlight.map(({ batchId, submittedAtMs }) => ({ batchId, submittedAtMs }));
    const polled = await acts.pollBatches.executeWithOptions(
      { ...short, summary: `poll ${batches.length} batches in flight` },
      [{ batches, listThreshold: opts.listPollThreshold, ...(slaAtRisk === undefined ? {} : { slaAtRisk }) }],
    );
    countCall(s, 'poll', polled.calls);
    const resultsUrls = new Map(polled.ended.map((e) => [e.batchId, e.resultsUrl]));
    return s.inFlight.filter((b) => resultsUrls.has(b.batchId)).map((batch) => ({ batch, resultsUrl: resultsUrls.get(batch.batchId) }));
  }

  /** Downloads the results of these ended batches, a few at a time, and gives their room back. */
  async function collect(ended: readonly EndedBatch[], nowMs: () => number) {
    await mapLimit(ended, opts.activityConcurrency, async ({ batch, resultsUrl }) => {
      const r = await acts.collectBatch.executeWithOptions(
        { ...long, summary: `collect ${batch.requests} results of ${batch.shardKey}` },
        [
          {
            jobId: spec.jobId,
            batchId: batch.batchId,
            resultsUrl,
            shardKey: batch.shardKey,
            maxAttempts: opts.maxAttempts,
            jobCanceled: s.cancelRequested,
            freeCancel: batch.preempted === true,
            ...(opts.outputCheck && { outputCheck: opts.outputCheck }),
            ...canaryCollectInput(s, batch.shardKey),
          },
        ],
      );
      batchCollected(s, batch.batchId, r);
      canaryCollected(s, r);
    });
    await seat.release({ requests: ended.reduce((n, e) => n + e.batch.requests, 0), batches: ended.length });
    collectedRound(s, nowMs());
  }

  return {
    /** Creates one batch for the shard (one submit activity) and records it in flight. */
    submitOne,

    /** Creates one batch per shard; after a fatal answer no other lane starts a create: the job is about to stop. */
    async submit(picks: ShardRef[]) {
      let fatal: Error | undefined;
      await mapLimit(picks, opts.activityConcurrency, async (shard) => {
        if (fatal !== undefined) return;
        try {
          await submitOne(shard);
        } catch (err) {
          fatal ??= err instanceof Error ? err : new Error(String(err));
        }
      });
      if (fatal !== undefined) throw fatal;
    },

    async cancel(batches: readonly InFlightBatch[], summary: string) {
      await acts.cancelBatches.executeWithOptions({ ...short, summary }, [{ batchIds: batches.map((b) => b.batchId) }]);
      countCall(s, 'cancel', batches.length);
    },

    findEnded,
    collect,

    /** Polls every batch in flight; collects those that ended and gives their room back. True if any ended. */
    async pollAndCollect(nowMs: () => number, slaAtRisk?: boolean): Promise<boolean> {
      const ended = await findEnded(slaAtRisk);
      if (ended.length === 0) return false;
      await collect(ended, nowMs);
      return true;
    },
  };
}
