/**
 * One job: plan, submit sub-batches, wait on durable timers, poll, collect, retry only what failed, finalize.
 * Decisions only; every API call and every byte of prompt or result is in an activity and the store.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { SluiceActivities } from '../activities';
import type { JobSummary } from '../activities/finalize';
import type { CollectResult } from '../activities/collect';
import { addTallies } from '../domain/cost';
import { originalShardKey, type JobSpec, type ShardRef } from '../domain/job';
import { mapLimit } from '../domain/map-limit';
import { nextPollIntervalMs } from '../domain/poll';
import {
  detailsMarkdown,
  finishedRequests,
  initialJobState,
  progressOf,
  recordRateSample,
  type InFlightBatch,
  type JobPhase,
  type JobProgress,
  type JobState,
} from './job-state';
import { SluiceJobName, SluicePhase } from './search-attributes';

export const cancelSignal = defineSignal('cancel');
export const progressQuery = defineQuery<JobProgress>('progress');

export interface JobInput {
  spec: JobSpec;
  /** Present when the job continues as new. */
  state?: JobState;
}

export interface JobResult {
  summary: JobSummary;
}

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' };
const quick: ActivityOptions = { startToCloseTimeout: '2m', retry };
const acts = proxyActivities<SluiceActivities>(quick);

export async function sluiceJob({ spec, state }: JobInput): Promise<JobResult> {
  const opts = spec.options;
  const s = state ?? initialJobState(Date.now(), spec.requestCount);
  const long: ActivityOptions = { startToCloseTimeout: '30m', heartbeatTimeout: opts.heartbeatTimeoutMs, retry };

  setHandler(progressQuery, () => progressOf(s, Date.now()));
  setHandler(cancelSignal, () => {
    s.cancelRequested = true;
  });
  upsertSearchAttributes([{ key: SluiceJobName, value: spec.name }]);

  const setPhase = (phase: JobPhase, next: string) => {
    s.phase = phase;
    upsertSearchAttributes([{ key: SluicePhase, value: phase }]);
    setCurrentDetails(detailsMarkdown(progressOf(s, Date.now()), next));
  };
  const countCall = (endpoint: string, n = 1) => (s.apiCalls[endpoint] = (s.apiCalls[endpoint] ?? 0) + n);

  try {
    if (s.phase === 'planning') {
      setPhase('planning', 'split the input into sub-batches');
      const plan = await acts.planJob.executeWithOptions({ ...long, summary: `plan ${spec.requestCount} requests` }, [
        { jobId: spec.jobId, inputKey: spec.inputKey, batchSize: opts.batchSize },
      ]);
      s.shardSizes = plan.shardSizes;
      s.requestCount = plan.requestCount;
      setPhase('running', 'submit the first sub-batches');
    }

    while (!isFinished(s)) {
      if (s.cancelRequested && s.phase === 'running') await cancelInFlight();
      if (s.phase === 'running') {
        await packRetriesIfDue();
        await submitWhatFits();
      }
      if (s.inFlight.length === 0) {
        if (s.phase === 'running' && (s.queued.length > 0 || s.pendingRetryRequests > 0)) continue;
        break;
      }

      const intervalMs = nextPollIntervalMs(s.pollIntervalMs, opts.poll);
      setCurrentDetails(detailsMarkdown(progressOf(s, Date.now()), `poll ${s.inFlight.length} batches`));
      await condition(() => s.cancelRequested && s.phase === 'running', intervalMs, {
        summary: `wait before polling ${s.inFlight.length} batches`,
      });
      const progressed = await pollAndCollect();
      s.pollIntervalMs = progressed ? undefined : intervalMs;

      const info = workflowInfo();
      if (info.continueAsNewSuggested || info.historyLength > opts.maxHistoryEvents) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof sluiceJob>({ spec, state: { ...s, run: s.run + 1 } });
      }
    }
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (!(cause instanceof ApplicationFailure) || !cause.nonRetryable) throw err;
    // A fatal API answer (bad key, refused batch): stop, write what there is, and say why.
    s.fatalError = cause.message;
  }

  const jobCanceled = s.cancelRequested;
  setPhase('finalizing', 'write results.jsonl, failures.jsonl and summary.json');
  const summary = await acts.finalizeJob.executeWithOptions({ ...long, summary: 'write results in input order' }, [
    {
      jobId: spec.jobId,
      name: spec.name,
      shardCount: s.shardSizes.length,
      jobCanceled,
      startedAtMs: spec.submittedAtMs ?? s.startedAtMs,
      batchesCreated: s.batchesCreated,
      apiCalls: s.apiCalls,
    },
  ]);
  setPhase(s.fatalError ? 'failed' : jobCanceled ? 'canceled' : 'done', 'nothing: the job is over');
  if (s.fatalError) throw ApplicationFailure.nonRetryable(`Job ${spec.jobId} stopped: ${s.fatalError}`, 'JobFailed');
  return { summary };

  async function submitWhatFits() {
    const room = opts.maxBatchesInFlight - s.inFlight.length;
    const picks: ShardRef[] = [];
    while (picks.length < room && s.queued.length > 0) picks.push(s.queued.shift()!);
    while (picks.length < room && s.nextShard < s.shardSizes.length) {
      picks.push({ key: originalShardKey(s.nextShard), requests: s.shardSizes[s.nextShard]! });
      s.nextShard++;
    }
    if (picks.length === 0) return;
    const total = s.shardSizes.length;
    await mapLimit(picks, opts.activityConcurrency, async (shard) => {
      const label = shard.key.startsWith('s') ? `sub-batch ${Number(shard.key.slice(1)) + 1}/${total}` : `retry ${shard.key}`;
      const r = await acts.submitBatch.executeWithOptions(
        { ...quick, summary: `submit ${label} (${shard.requests} requests)` },
        [{ jobId: spec.jobId, shardKey: shard.key }],
      );
      countCall('create');
      s.batchesCreated++;
      s.inFlight.push({ batchId: r.batchId, shardKey: shard.key, requests: r.requests, submittedAtMs: r.createdAtMs });
    });
  }

  async function pollAndCollect(): Promise<boolean> {
    const batches = s.inFlight.map(({ batchId, submittedAtMs }) => ({ batchId, submittedAtMs }));
    const polled = await acts.pollBatches.executeWithOptions(
      { ...quick, summary: `poll ${batches.length} batches in flight` },
      [{ batches, listThreshold: opts.listPollThreshold }],
    );
    countCall('poll', polled.calls);
    if (polled.ended.length === 0) return false;
    const resultsUrls = new Map(polled.ended.map((e) => [e.batchId, e.resultsUrl]));
    const done = s.inFlight.filter((b) => resultsUrls.has(b.batchId));
    await mapLimit(done, opts.activityConcurrency, async (batch) => {
      const r = await acts.collectBatch.executeWithOptions(
        { ...long, summary: `collect ${batch.requests} results of ${batch.shardKey}` },
        [
          {
            jobId: spec.jobId,
            batchId: batch.batchId,
            resultsUrl: resultsUrls.get(batch.batchId),
            shardKey: batch.shardKey,
            maxAttempts: opts.maxAttempts,
            jobCanceled: s.cancelRequested,
          },
        ],
      );
      applyCollected(batch, r);
    });
    recordRateSample(s, Date.now());
    return true;
  }

  function applyCollected(batch: InFlightBatch, r: CollectResult) {
    countCall('results');
    s.inFlight = s.inFlight.filter((b) => b.batchId !== batch.batchId);
    s.batchesCollected++;
    s.succeeded += r.succeeded;
    s.failed += r.failed;
    s.canceled += r.canceled;
    s.tally = addTallies(s.tally, r.tally);
    for (const [k, v] of Object.entries(r.reasons)) s.reasons[k] = (s.reasons[k] ?? 0) + v;
    if (r.retry > 0) {
      s.pendingRetryBatchIds.push(batch.batchId);
      s.pendingRetryRequests += r.retry;
      s.retried += r.retry;
    }
  }

  /** Retries wait until a full sub-batch of them is ready, or until nothing else is left to send. */
  async function packRetriesIfDue() {
    if (s.pendingRetryRequests === 0) return;
    const nothingElse = s.nextShard >= s.shardSizes.length && s.queued.length === 0;
    if (s.pendingRetryRequests < opts.batchSize && !nothingElse) return;
    s.retryRound++;
    const { shards } = await acts.packRetries.executeWithOptions(
      { ...quick, summary: `pack ${s.pendingRetryRequests} requests to retry` },
      [{ jobId: spec.jobId, batchIds: s.pendingRetryBatchIds, round: s.retryRound, batchSize: opts.batchSize }],
    );
    s.queued.push(...shards);
    s.pendingRetryBatchIds = [];
    s.pendingRetryRequests = 0;
  }

  async function cancelInFlight() {
    setPhase('canceling', `cancel ${s.inFlight.length} batches in flight`);
    // Requests that were never sent, or only waiting to be retried, end as canceled in finalize.
    s.queued = [];
    s.pendingRetryBatchIds = [];
    s.pendingRetryRequests = 0;
    s.nextShard = s.shardSizes.length;
    if (s.inFlight.length === 0) return;
    await acts.cancelBatches.executeWithOptions({ ...quick, summary: `cancel ${s.inFlight.length} batches` }, [
      { batchIds: s.inFlight.map((b) => b.batchId) },
    ]);
    countCall('cancel', s.inFlight.length);
  }
}

function isFinished(s: JobState): boolean {
  return s.phase !== 'planning' && finishedRequests(s) >= s.requestCount && s.inFlight.length === 0;
}
