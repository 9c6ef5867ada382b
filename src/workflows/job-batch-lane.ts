/**
 * The batch lane of a job: create sub-batches, learn which batches ended (from the account's poller, or by polling
 * every batch in flight in one activity), collect those, cancel the ones the decisions name. Only I/O through
 * activities and the state updates that follow.
 */
import type { JobSpec, ShardRef } from '../domain/job';
import { isCancellation } from '@temporalio/workflow';
import { mapLimit } from '../domain/map-limit';
import { submissionLabel } from './job-decisions';
import { acts, longFor, short, submitOptions } from './job-activities';
import type { QueueSeat } from './job-queue';
import type { InFlightBatch, JobState } from './job-state';
import { batchCollected, batchCreated, collectedRound, countCall } from './job-transitions';
import { canaryCollectInput, canaryCollected } from './job-canary';
import { accountPollOf } from './job-account-poll';
import type { CollectInput, CollectResult, EndedBatch, SubmitResult } from '../contracts/activities';
import { collectGroups, collectGroupSummary } from '../domain/collect-groups';

export type BatchLane = ReturnType<typeof batchLane>;

/** A batch in flight that the API reports ended, with where its results are. */
interface EndedInFlight {
  batch: InFlightBatch;
  resultsUrl?: string;
}

/**
 * `accountPoll`: learn of ended batches from the account's poller (runs patched 'account-poll'), else poll alone.
 * `together`: collect the batches that ended together in one activity per group (runs patched 'collect-together'),
 * else one activity per batch.
 */
export function batchLane(spec: JobSpec, s: JobState, seat: QueueSeat, accountPoll?: { wake: () => void }, together = false) {
  const opts = spec.options;
  const long = longFor(opts);
  const poller = accountPoll ? accountPollOf(spec.jobId, s, opts.poll, accountPoll.wake) : undefined;

  /** One submit activity for the shard; `created` records its answer. */
  function createOne(shard: ShardRef): Promise<SubmitResult> {
    return acts.submitBatch.executeWithOptions(
      { ...submitOptions, summary: `submit ${submissionLabel(shard, s.shardSizes.length)} (${shard.requests} requests)` },
      [{ jobId: spec.jobId, shardKey: shard.key }],
    );
  }

  function created(shard: ShardRef, r: SubmitResult) {
    batchCreated(s, { batchId: r.batchId, shardKey: shard.key, requests: r.requests, submittedAtMs: r.createdAtMs });
  }

  async function submitOne(shard: ShardRef) {
    const r = await createOne(shard);
    created(shard, r);
  }

  /** Which batches in flight ended: the poller's reports while it serves the job, else (or when it falls silent) a poll. */
  async function findEnded(nowMs: () => number, slaAtRisk?: boolean): Promise<EndedInFlight[]> {
    await poller?.registerFirst(nowMs());
    const ended = poller?.serving() && !poller.silent(nowMs()) ? poller.takeEnded() : await pollOwn(slaAtRisk);
    const resultsUrls = new Map(ended.map((e) => [e.batchId, e.resultsUrl]));
    return s.inFlight.filter((b) => resultsUrls.has(b.batchId)).map((batch) => ({ batch, resultsUrl: resultsUrls.get(batch.batchId) }));
  }

  async function pollOwn(slaAtRisk?: boolean): Promise<EndedBatch[]> {
    const batches = s.inFlight.map(({ batchId, submittedAtMs }) => ({ batchId, submittedAtMs }));
    const polled = await acts.pollBatches.executeWithOptions(
      { ...short, summary: `poll ${batches.length} batches in flight` },
      [{ batches, listThreshold: opts.listPollThreshold, ...(slaAtRisk === undefined ? {} : { slaAtRisk }) }],
    );
    countCall(s, 'poll', polled.calls);
    return polled.ended;
  }

  const collectInputOf = ({ batch, resultsUrl }: EndedInFlight): CollectInput => ({
    jobId: spec.jobId,
    batchId: batch.batchId,
    resultsUrl,
    shardKey: batch.shardKey,
    maxAttempts: opts.maxAttempts,
    jobCanceled: s.cancelRequested,
    freeCancel: batch.preempted === true,
    ...(opts.outputCheck && { outputCheck: opts.outputCheck }),
    ...canaryCollectInput(s, batch.shardKey),
  });

  const collected = (batchId: string, r: CollectResult) => {
    batchCollected(s, batchId, r);
    canaryCollected(s, r);
  };

  /** One batch, one activity, with its own retries: the path of runs from before collectTogether, and a group's failures. */
  async function collectAlone(ended: EndedInFlight) {
    const r = await acts.collectBatch.executeWithOptions(
      { ...long, summary: `collect ${ended.batch.requests} results of ${ended.batch.shardKey}` },
      [collectInputOf(ended)],
    );
    collected(ended.batch.batchId, r);
  }

  /**
   * The batches that ended together, a group per activity (collect-groups.ts). What a group collected is applied
   * at once; a batch it did not collect (its failure named, or the whole activity failed: out of time, attempts used
   * up) is collected again alone, so one batch's failure loses nothing of the others' and keeps the retries and the
   * failure it had before (a final one still stops the job). A cancel of the job is not retried alone.
   */
  async function collectTogether(ended: readonly EndedInFlight[]) {
    const again: EndedInFlight[] = [];
    const groups = collectGroups(ended, undefined, (e) => e.batch.requests);
    await mapLimit(groups, opts.activityConcurrency, async (group) => {
      let done: ReadonlySet<string> = new Set();
      try {
        const r = await acts.collectBatches.executeWithOptions(
          { ...long, summary: collectGroupSummary(group.map((e) => e.batch)) },
          [{ batches: group.map(collectInputOf) }],
        );
        for (const c of r.collected) collected(c.batchId, c.result);
        done = new Set(r.collected.map((c) => c.batchId));
      } catch (err) {
        if (isCancellation(err)) throw err;
      }
      again.push(...group.filter((e) => !done.has(e.batch.batchId)));
    });
    await mapLimit(again, opts.activityConcurrency, collectAlone);
  }

  /** Downloads the results of these ended batches, a few at a time, and gives their room back. */
  async function collect(ended: readonly EndedInFlight[], nowMs: () => number) {
    if (together) await collectTogether(ended);
    else await mapLimit(ended, opts.activityConcurrency, collectAlone);
    await seat.release({ requests: ended.reduce((n, e) => n + e.batch.requests, 0), batches: ended.length });
    collectedRound(s, nowMs());
  }

  return {
    /** Creates one batch for the shard (one submit activity) and records it in flight. */
    submitOne,
    /** The same in two steps, for the submit lane's callbacks: the activity, then its answer recorded. */
    createOne,
    created,

    /** How long the job waits this round: with the poller serving it, until its next refresh (reports wake it). */
    waitMs(waitMs: number, plainIntervalMs: number, nowMs: number): number {
      return poller?.waitMs(waitMs, plainIntervalMs, nowMs) ?? waitMs;
    },
    /** Reports from the poller wait to be collected: the job's wait ends for them. */
    reported(): boolean {
      return poller?.reported() ?? false;
    },

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
      await poller?.watch(Date.now());
    },

    async cancel(batches: readonly InFlightBatch[], summary: string) {
      await acts.cancelBatches.executeWithOptions({ ...short, summary }, [{ batchIds: batches.map((b) => b.batchId) }]);
      countCall(s, 'cancel', batches.length);
    },

    /** Polls every batch in flight; collects those that ended and gives their room back. True if any ended. */
    async pollAndCollect(nowMs: () => number, slaAtRisk?: boolean): Promise<boolean> {
      const ended = await findEnded(nowMs, slaAtRisk);
      if (ended.length > 0) await collect(ended, nowMs);
      await poller?.watch(nowMs(), slaAtRisk);
      return ended.length > 0;
    },
  };
}
