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
import { isStraggler, nextSlaEventMs, routeFor, withLearnedWindow } from '../domain/sla-route';
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
import { joinQueue } from './job-queue';
import { SluiceDeadline, SluiceJobName, SluicePhase, SluicePriority, SluiceSlaAtRisk } from './search-attributes';

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
/** A create may carry up to 256 MB (a minute is room for that); the rest are small calls, retried soon after a crash. */
const quick: ActivityOptions = { startToCloseTimeout: '1m', retry };
const short: ActivityOptions = { startToCloseTimeout: '30s', retry };
const acts = proxyActivities<SluiceActivities>(quick);
/** While held with nothing in flight, look again this often even without a message (messages wake sooner). */
const HELD_RECHECK_MS = 60_000;

export async function sluiceJob({ spec, state }: JobInput): Promise<JobResult> {
  const opts = spec.options;
  const s = state ?? initialJobState(Date.now(), spec.requestCount, opts.priority);
  const long: ActivityOptions = { startToCloseTimeout: '30m', heartbeatTimeout: opts.heartbeatTimeoutMs, retry };

  // A job with `window: 'learned'` plans with the window its plan fitted; every other job with opts.sla as before.
  let sla = withLearnedWindow(opts.sla, s.learnedWindowMs);
  const progressNow = () => progressOf(s, Date.now(), sla);
  setHandler(progressQuery, progressNow);
  setHandler(cancelSignal, () => {
    s.cancelRequested = true;
  });
  upsertSearchAttributes([{ key: SluiceJobName, value: spec.name }]);
  if (sla.deadlineMs !== undefined) upsertSearchAttributes([{ key: SluiceDeadline, value: new Date(sla.deadlineMs) }]);
  let atRiskShown: boolean | undefined;
  let wake = false;
  let syncFailure: Error | undefined;
  upsertSearchAttributes([{ key: SluicePriority, value: s.seat.priority }]);
  const seat = joinQueue(s.seat, {
    jobId: spec.jobId,
    taskQueue: workflowInfo().taskQueue,
    deadlineMs: sla.deadlineMs,
    preempt: opts.preempt,
    enabled: opts.useScheduler,
    requestRoom: (request, summary) => acts.requestRoom.executeWithOptions({ ...short, summary }, [request]),
    wake: () => (wake = true),
    onPriority: (priority) => upsertSearchAttributes([{ key: SluicePriority, value: priority }]),
  });
  const showProgress = (next: string) => {
    const p = progressNow();
    const atRisk = p.sla?.atRisk ?? false;
    if (atRisk !== atRiskShown) upsertSearchAttributes([{ key: SluiceSlaAtRisk, value: atRisk }]);
    atRiskShown = atRisk;
    setCurrentDetails(detailsMarkdown(p, next));
  };

  const setPhase = (phase: JobPhase, next: string) => {
    s.phase = phase;
    upsertSearchAttributes([{ key: SluicePhase, value: phase }]);
    showProgress(next);
  };
  const countCall = (endpoint: string, n = 1) => (s.apiCalls[endpoint] = (s.apiCalls[endpoint] ?? 0) + n);

  try {
    if (s.phase === 'planning') {
      setPhase('planning', 'split the input into sub-batches');
      const plan = await acts.planJob.executeWithOptions({ ...long, summary: `plan ${spec.requestCount} requests` }, [
        {
          jobId: spec.jobId,
          inputKey: spec.inputKey,
          batchSize: opts.batchSize,
          ...(opts.sla.window === 'learned' ? { learnWindow: { fixedWindowMs: opts.sla.windowMs, options: opts.sla.learn } } : {}),
        },
      ]);
      s.shardSizes = plan.shardSizes;
      s.requestCount = plan.requestCount;
      if (plan.window) {
        s.learnedWindowMs = plan.window.windowMs;
        sla = withLearnedWindow(opts.sla, s.learnedWindowMs);
      }
      setPhase('running', 'submit the first sub-batches');
    }

    while (!isFinished(s)) {
      // Reset before the work, not before the wait: a message that arrives meanwhile must still wake the wait.
      wake = false;
      throwIfSyncFailed();
      if (s.cancelRequested && s.phase === 'running') await cancelInFlight();
      if (s.phase === 'running') {
        await stepAsideIfAsked();
        await packRetriesIfDue();
        await submitWhatFits();
      }
      const nothingOut = s.inFlight.length === 0 && s.syncInFlight.length === 0;
      if (nothingOut && !(s.phase === 'running' && hasWorkLeft())) break;
      if (cancelGraceOver()) break; // finalize reports the requests still in those batches

      const intervalMs = waitBeforePollMs();
      showProgress(nextAction());
      await condition(() => wake || (s.cancelRequested && s.phase === 'running'), nothingOut ? HELD_RECHECK_MS : intervalMs, {
        summary: nothingOut ? 'wait for room in the batch queue' : s.inFlight.length ? `wait before polling ${s.inFlight.length} batches` : 'wait for synchronous calls',
      });
      if (s.inFlight.length > 0) {
        const progressed = await pollAndCollect();
        s.pollIntervalMs = progressed ? undefined : intervalMs;
        await cancelStragglers();
      }

      const info = workflowInfo();
      if (info.continueAsNewSuggested || info.historyLength > opts.maxHistoryEvents) {
        await condition(() => s.syncInFlight.length === 0 && allHandlersFinished());
        throwIfSyncFailed();
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
      stoppedEarly: s.fatalError !== undefined,
      startedAtMs: spec.submittedAtMs ?? s.startedAtMs,
      batchesCreated: s.batchesCreated,
      apiCalls: s.apiCalls,
    },
  ]);
  await seat.leave();
  s.heldReason = undefined;
  setPhase(s.fatalError ? 'failed' : jobCanceled ? 'canceled' : 'done', 'nothing: the job is over');
  if (s.fatalError) throw ApplicationFailure.nonRetryable(`Job ${spec.jobId} stopped: ${s.fatalError}`, 'JobFailed');
  return { summary };

  /** The shards that would go next, in order (retries first), without taking them. */
  function nextShards(limit: number): ShardRef[] {
    const out = s.queued.slice(0, limit);
    for (let i = s.nextShard; out.length < limit && i < s.shardSizes.length; i++) {
      out.push({ key: originalShardKey(i), requests: s.shardSizes[i]! });
    }
    return out;
  }

  function takeShard(shard: ShardRef) {
    if (s.queued[0]?.key === shard.key) s.queued.shift();
    else s.nextShard++;
  }

  function hasWorkLeft(): boolean {
    return s.nextShard < s.shardSizes.length || s.queued.length > 0 || s.pendingRetryRequests > 0;
  }

  async function submitWhatFits() {
    const route = routeFor(Date.now(), s.requestCount, sla);
    const limit =
      route === 'batch'
        ? opts.maxBatchesInFlight - s.inFlight.length
        : route === 'sync'
          ? sla.maxSyncShardsInFlight - s.syncInFlight.length
          : Number.MAX_SAFE_INTEGER;
    const candidates = nextShards(Math.max(0, limit));
    const picks: ShardRef[] = [];
    for (const shard of candidates) {
      // The batch queue is shared: a batch needs room from the scheduler; sync and sla_missed work does not.
      if (route === 'batch' && !seat.canTake(shard)) break;
      if (route === 'batch') seat.take(shard);
      takeShard(shard);
      picks.push(shard);
    }
    if (route === 'batch') await askForRoom(picks.length < candidates.length);
    if (picks.length === 0) return;
    const total = s.shardSizes.length;
    if (route === 'sync') return picks.forEach(startSync);
    if (route === 'sla_missed') {
      await mapLimit(picks, opts.activityConcurrency, markMissed);
      return;
    }
    // After a fatal answer no other lane may start a create: the job is about to stop.
    let fatal: Error | undefined;
    await mapLimit(picks, opts.activityConcurrency, async (shard) => {
      if (fatal !== undefined) return;
      const label = shard.key.startsWith('s') ? `sub-batch ${Number(shard.key.slice(1)) + 1}/${total}` : `retry ${shard.key}`;
      try {
        const r = await acts.submitBatch.executeWithOptions(
          { ...quick, summary: `submit ${label} (${shard.requests} requests)` },
          [{ jobId: spec.jobId, shardKey: shard.key }],
        );
        countCall('create');
        s.batchesCreated++;
        s.inFlight.push({ batchId: r.batchId, shardKey: shard.key, requests: r.requests, submittedAtMs: r.createdAtMs });
      } catch (err) {
        fatal ??= err instanceof Error ? err : new Error(String(err));
      }
    });
    if (fatal !== undefined) throw fatal;
  }

  /** Asks the scheduler for room for what is left to send, and says why the job waits when it must. */
  async function askForRoom(blocked: boolean) {
    const inFlight = { requests: s.inFlight.reduce((n, b) => n + b.requests, 0), batches: s.inFlight.length };
    await seat.ask(inFlight, nextShards(Math.max(0, opts.maxBatchesInFlight - s.inFlight.length)));
    const reason = !blocked
      ? undefined
      : s.seat.paused
        ? 'paused'
        : s.seat.preemptedBy
          ? `preempted by ${s.seat.preemptedBy}`
          : opts.useScheduler
            ? 'waiting for room in the batch queue'
            : undefined;
    if (reason !== s.heldReason) {
      s.heldReason = reason;
      upsertSearchAttributes([{ key: SluicePhase, value: reason ? 'held' : s.phase }]);
    }
  }

  /** Told to make room (or paused): give back unspent room and, if asked, cancel the youngest batches. */
  async function stepAsideIfAsked() {
    const paused = s.seat.paused && (s.seat.grant.requests > 0 || s.seat.grant.batches > 0);
    if (!s.seat.pendingPreempt && !paused) return;
    const preemption = await seat.stepAside();
    if (!preemption || preemption.cancelRequests <= 0) return;
    const youngest = s.inFlight.filter((b) => !b.straggler && !b.preempted).sort((a, b) => b.submittedAtMs - a.submittedAtMs);
    const victims: InFlightBatch[] = [];
    let freed = 0;
    for (const b of youngest) {
      if (freed >= preemption.cancelRequests) break;
      victims.push(b);
      freed += b.requests;
    }
    if (victims.length === 0) return;
    for (const b of victims) b.preempted = true;
    await acts.cancelBatches.executeWithOptions(
      { ...short, summary: `cancel ${victims.length} young batches to make room for ${preemption.by}` },
      [{ batchIds: victims.map((b) => b.batchId) }],
    );
    countCall('cancel', victims.length);
  }

  function nextAction(): string {
    if (s.heldReason) return `wait: ${s.heldReason}`;
    if (s.inFlight.length) return `poll ${s.inFlight.length} batches`;
    return `finish ${s.syncInFlight.length} synchronous sub-batches`;
  }

  function throwIfSyncFailed() {
    if (syncFailure) throw syncFailure;
  }

  /** Runs beside the loop: synchronous calls take minutes, and batches in flight still need polling. */
  function startSync(shard: ShardRef) {
    s.syncInFlight.push(shard);
    acts.runSync
      .executeWithOptions({ ...long, summary: `send ${shard.requests} requests of ${shard.key} synchronously` }, [
        { jobId: spec.jobId, shardKey: shard.key, concurrency: sla.syncConcurrency },
      ])
      .then((r) => {
        countCall('messages', shard.requests);
        s.syncRequests += shard.requests;
        applyCollected(r);
      })
      .catch((err: unknown) => (syncFailure = err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        s.syncInFlight = s.syncInFlight.filter((x) => x.key !== shard.key);
        wake = true;
      });
  }

  async function markMissed(shard: ShardRef) {
    const { requests } = await acts.markSlaMissed.executeWithOptions(
      { ...short, summary: `mark ${shard.requests} requests of ${shard.key} sla_missed` },
      [{ jobId: spec.jobId, shardKey: shard.key, reason: 'past the latest batch submission, and synchronous fallback is off' }],
    );
    s.slaMissed += requests;
  }

  function cancelGraceOver(): boolean {
    return s.phase === 'canceling' && s.canceledAtMs !== undefined && Date.now() >= s.canceledAtMs + opts.cancelGraceMs;
  }

  /** The poll interval, shortened so the workflow wakes when the next SLA decision (or the cancel grace) falls due. */
  function waitBeforePollMs(): number {
    const intervalMs = nextPollIntervalMs(s.pollIntervalMs, opts.poll);
    const now = Date.now();
    if (s.phase === 'canceling' && s.canceledAtMs !== undefined) {
      return Math.max(1, Math.min(intervalMs, s.canceledAtMs + opts.cancelGraceMs - now));
    }
    const next = nextSlaEventMs(now, s.inFlight.filter((b) => !b.straggler).map((b) => b.requests), sla);
    return next === undefined ? intervalMs : Math.max(1, Math.min(intervalMs, next - now));
  }

  async function cancelStragglers() {
    const now = Date.now();
    const sizes = s.inFlight.filter((b) => !b.straggler).map((b) => b.requests);
    const stragglers = s.inFlight.filter((b) => !b.straggler && isStraggler(now, b.requests, sla, sizes));
    if (stragglers.length === 0 || s.cancelRequested) return;
    for (const b of stragglers) b.straggler = true;
    // A straggler proves the learned window wrong for now: the rest of the job plans with the fixed window again.
    if (sla.window === 'learned' && s.learnedWindowMs !== undefined && s.learnedWindowMs < opts.sla.windowMs) {
      s.learnedWindowMs = opts.sla.windowMs;
      sla = withLearnedWindow(opts.sla, s.learnedWindowMs);
    }
    await acts.cancelBatches.executeWithOptions(
      { ...short, summary: `cancel ${stragglers.length} batches that can no longer meet the deadline` },
      [{ batchIds: stragglers.map((b) => b.batchId) }],
    );
    countCall('cancel', stragglers.length);
  }

  async function pollAndCollect(): Promise<boolean> {
    const batches = s.inFlight.map(({ batchId, submittedAtMs }) => ({ batchId, submittedAtMs }));
    const polled = await acts.pollBatches.executeWithOptions(
      { ...short, summary: `poll ${batches.length} batches in flight` },
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
            freeCancel: batch.preempted === true,
          },
        ],
      );
      s.inFlight = s.inFlight.filter((b) => b.batchId !== batch.batchId);
      s.batchesCollected++;
      countCall('results');
      applyCollected(r, batch.batchId);
    });
    await seat.release({ requests: done.reduce((n, b) => n + b.requests, 0), batches: done.length });
    recordRateSample(s, Date.now());
    return true;
  }

  function applyCollected(r: CollectResult, batchId?: string) {
    s.succeeded += r.succeeded;
    s.failed += r.failed;
    s.canceled += r.canceled;
    s.tally = addTallies(s.tally, r.tally);
    for (const [k, v] of Object.entries(r.reasons)) s.reasons[k] = (s.reasons[k] ?? 0) + v;
    if (r.retry > 0 && batchId) {
      s.pendingRetryBatchIds.push(batchId);
      s.pendingRetryRequests += r.retry;
      s.retried += r.retry;
    }
  }

  /**
   * Retries wait until a full sub-batch of them is ready, or until nothing else is left to send, or until they
   * can no longer go by batch (then every minute counts).
   */
  async function packRetriesIfDue() {
    if (s.pendingRetryRequests === 0) return;
    const nothingElse = s.nextShard >= s.shardSizes.length && s.queued.length === 0;
    const notBatch = routeFor(Date.now(), s.requestCount, sla) !== 'batch';
    if (s.pendingRetryRequests < opts.batchSize && !nothingElse && !notBatch) return;
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
    s.canceledAtMs = Date.now();
    setPhase('canceling', `cancel ${s.inFlight.length} batches in flight`);
    // Requests that were never sent, or only waiting to be retried, end as canceled in finalize.
    s.queued = [];
    s.pendingRetryBatchIds = [];
    s.pendingRetryRequests = 0;
    s.nextShard = s.shardSizes.length;
    if (s.inFlight.length === 0) return;
    await acts.cancelBatches.executeWithOptions({ ...short, summary: `cancel ${s.inFlight.length} batches` }, [
      { batchIds: s.inFlight.map((b) => b.batchId) },
    ]);
    countCall('cancel', s.inFlight.length);
  }
}

function isFinished(s: JobState): boolean {
  return s.phase !== 'planning' && finishedRequests(s) >= s.requestCount && s.inFlight.length === 0;
}
