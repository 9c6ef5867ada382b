/**
 * One job: plan, submit sub-batches, wait on durable timers, poll, collect, retry only what failed, finalize.
 * A thin loop: what to do is decided by the pure functions of job-decisions.ts over the job's state; the batch
 * lane, the sync lane and the scheduler seat do it. Every API call and every byte of prompt or result is in an
 * activity and the store.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { JobSummary } from '../contracts/activities';
import type { JobSpec, ShardRef } from '../domain/job';
import { mapLimit } from '../domain/map-limit';
import { nextPollIntervalMs } from '../domain/poll';
import { acts, longFor, quick, short } from './job-activities';
import { batchLane } from './job-batch-lane';
import * as decide from './job-decisions';
import * as canary from './job-canary';
import { joinQueue } from './job-queue';
import { detailsMarkdown, initialJobState, progressOf, type JobPhase, type JobState } from './job-state';
import { submitLane, submitLaneByCallbacks } from './job-submit-lane';
import { syncLane } from './job-sync-lane';
import { dropUnsent, retriesPacked, takeShard } from './job-transitions';
import { SluiceDeadline, SluiceJobName, SluicePhase, SluicePriority, SluiceSlaAtRisk } from './search-attributes';
import { initialBudget, reserveShards, withinBudget } from './job-budget';
import { finalizeInputOf, planInputOf } from './job-inputs';
import { reportEnd, setJobHandlers } from './job-messages';

/** patched() id: creates run in a lane beside polling and collecting (job-submit-lane.ts), not all before the first poll. */
export const OVERLAP_SUBMIT_COLLECT = 'overlap-submit-collect';

/**
 * patched() id: a run that continues as new keeps its seat in the scheduler. It left the queue (the continue-as-new
 * reached the failure path), and the next run's refresh then read to the scheduler as a job it had lost: no grants
 * for one and a half refresh periods (90 s by default) while the job waited for room with nothing in flight.
 */
export const KEEP_SEAT_ACROSS_CONTINUE_AS_NEW = 'keep-seat-across-continue-as-new';

/**
 * patched() id: the batches of a round that ended together are collected in one collectBatches activity per group
 * of up to 25 (src/domain/collect-groups.ts), not one collectBatch each: fewer activities and workflow tasks per job.
 */
export const COLLECT_TOGETHER = 'collect-together';

/**
 * patched() id: the submit lane takes each create's answer in a callback (submitLaneByCallbacks), with half the
 * promises per create of the async loop: the SDK's stack trace of each promise was most of the job's workflow CPU.
 */
export const SUBMIT_LANE_BY_CALLBACKS = 'submit-lane-by-callbacks';

export interface JobInput {
  spec: JobSpec;
  /** Present when the job continues as new. */
  state?: JobState;
}

export interface JobResult {
  summary: JobSummary;
}

/**
 * A Temporal cancellation (`handle.cancel()`, the Web UI's Cancel, `temporal workflow cancel`) asks what the cancel
 * signal asks, and gets the same: batches in flight canceled, results finalized, room in the queue given back, and
 * the job completes with its summary. The job runs in a non-cancellable scope so that no activity is abandoned
 * half-way: a create whose batch id the job never learned would be a batch nobody collects.
 */
export async function sluiceJob(input: JobInput): Promise<JobResult> {
  const root = CancellationScope.current();
  return CancellationScope.nonCancellable(() => runJob(input, root.cancelRequested));
}

async function runJob({ spec, state }: JobInput, temporalCancel: Promise<never>): Promise<JobResult> {
  const s = state ?? initialJobState(Date.now(), spec.requestCount, spec.options.priority);
  if (!state && spec.options.canary) s.canary = canary.initialCanary(spec.options.canary);
  // A job with `window: 'learned'` decides with the window its plan fitted (until a straggler proves it wrong);
  // every other job with its options as given.
  let opts = decide.withLearnedWindowOf(spec.options, s.learnedWindowMs);
  const sla = spec.options.sla;
  const long = longFor(opts);

  let wake = false;
  const progressNow = () => progressOf(s, Date.now(), opts.sla);
  const requestCancel = () => {
    s.cancelRequested = true;
  };
  s.budget ??= initialBudget(spec.options.budgetUsd);
  setJobHandlers(s, { progress: progressNow, requestCancel, wake: () => (wake = true) });
  temporalCancel.catch(requestCancel);
  upsertSearchAttributes([{ key: SluiceJobName, value: spec.name }]);
  if (sla.deadlineMs !== undefined) upsertSearchAttributes([{ key: SluiceDeadline, value: new Date(sla.deadlineMs) }]);
  let atRiskShown: boolean | undefined;
  let canaryApplied = s.canary?.state;
  upsertSearchAttributes([{ key: SluicePriority, value: s.seat.priority }]);
  const seat = joinQueue(s.seat, {
    jobId: spec.jobId,
    taskQueue: workflowInfo().taskQueue,
    deadlineMs: sla.deadlineMs,
    preempt: opts.preempt,
    enabled: opts.useScheduler,
    // Re-asks periodically with what it holds, waits no longer than a refresh, and leaves the queue when it fails.
    refresh: opts.useScheduler && patched('scheduler-refresh'),
    requestRoom: (request, summary) => acts.requestRoom.executeWithOptions({ ...short, summary }, [request]),
    wake: () => (wake = true),
    onPriority: (priority) => upsertSearchAttributes([{ key: SluicePriority, value: priority }]),
  });
  // One poll per account: the poller's reports say which batches ended (runs from before it poll on their own).
  const accountPoll = patched('account-poll') ? { wake: () => (wake = true) } : undefined;
  const batches = batchLane(spec, s, seat, accountPoll, patched(COLLECT_TOGETHER));
  const sync = syncLane(spec, s, () => (wake = true));
  // Histories made before the lane keep their order: every granted create, then the poll.
  const submitter = !patched(OVERLAP_SUBMIT_COLLECT)
    ? undefined
    : patched(SUBMIT_LANE_BY_CALLBACKS)
      ? submitLaneByCallbacks(s, opts.activityConcurrency, batches.createOne, batches.created, () => (wake = true))
      : submitLane(s, opts.activityConcurrency, batches.submitOne, () => (wake = true));

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

  try {
    if (s.phase === 'planning') {
      setPhase('planning', 'split the input into sub-batches');
      const plan = await acts.planJob.executeWithOptions({ ...long, summary: `plan ${spec.requestCount} requests` }, [planInputOf(spec, opts, s)]);
      s.shardSizes = plan.shardSizes;
      if (plan.shardWorstUsd) s.shardWorstUsd = plan.shardWorstUsd;
      s.requestCount = plan.requestCount;
      if (plan.window) {
        s.learnedWindowMs = plan.window.windowMs;
        opts = decide.withLearnedWindowOf(spec.options, s.learnedWindowMs);
      }
      setPhase('running', 'submit the first sub-batches');
      if (canary.canaryRunning(s)) upsertSearchAttributes([{ key: SluicePhase, value: 'canary' }]);
    }

    while (!decide.isFinished(s)) {
      // Reset before the work, not before the wait: a message that arrives meanwhile must still wake the wait.
      wake = false;
      sync.throwIfFailed();
      submitter?.throwIfFailed();
      if (decide.cancelDue(s)) await cancelEverything();
      applyCanaryVerdict();
      if (s.phase === 'running') {
        await stepAsideIfAsked();
        await packRetriesIfDue();
        await submitWhatFits();
      }
      if (decide.stopReason(s, Date.now(), opts)) break;

      await seat.refreshIfDue(decide.roomWanted(s, opts).inFlight);
      const wait = decide.planWait(s, Date.now(), opts);
      showProgress(decide.nextActionText(s));
      const pollerWaitMs = batches.waitMs(wait.timeoutMs, nextPollIntervalMs(s.pollIntervalMs, opts.poll), Date.now());
      const timeoutMs = seat.waitMs(pollerWaitMs, decide.roomWanted(s, opts).inFlight);
      await condition(() => wake || decide.cancelDue(s) || batches.reported(), timeoutMs, { summary: wait.summary });
      if (decide.pollDue(s)) {
        const progressed = await batches.pollAndCollect(() => Date.now(), progressNow().sla?.atRisk);
        s.pollIntervalMs = decide.intervalAfterPoll(progressed, wait.intervalMs);
        await cancelStragglers();
      }

      if (decide.continueAsNewDue(workflowInfo(), opts)) {
        await condition(() => s.syncInFlight.length === 0 && (submitter?.idle() ?? true) && allHandlersFinished());
        sync.throwIfFailed();
        submitter?.throwIfFailed();
        await continueAsNew<typeof sluiceJob>({ spec, state: { ...s, run: s.run + 1 } });
      }
    }
  } catch (err) {
    // The next run takes the seat over as it is: the scheduler must not hear this run leave.
    if (err instanceof ContinueAsNew && patched(KEEP_SEAT_ACROSS_CONTINUE_AS_NEW)) throw err;
    // A fatal API answer, or an activity that gave up: stop, write what there is, and say why.
    const fatal = decide.fatalFailureMessage(err);
    if (fatal === undefined) {
      await seat.leaveOnFailure();
      throw err;
    }
    s.fatalError = fatal;
  }
  // Stopped on a fatal answer while creates run: none may be left behind (a batch nobody would collect).
  await stopSubmitting();

  const jobCanceled = s.cancelRequested;
  setPhase('finalizing', 'write results.jsonl, failures.jsonl and summary.json');
  let summary: JobSummary;
  try {
    summary = await acts.finalizeJob.executeWithOptions({ ...long, summary: 'write results in input order' }, [
      finalizeInputOf(spec, opts, s, jobCanceled),
    ]);
  } catch (err) {
    await seat.leaveOnFailure();
    throw err;
  }
  await seat.leave();
  s.heldReason = undefined;
  setPhase(s.fatalError ? 'failed' : jobCanceled ? 'canceled' : canary.canaryStopped(s) ? 'stopped' : 'done', 'nothing: the job is over');
  if (spec.reportTo) await reportEnd(spec.reportTo, spec.jobId);
  if (s.fatalError) throw ApplicationFailure.nonRetryable(`Job ${spec.jobId} stopped: ${s.fatalError}`, 'JobFailed');
  return { summary };

  /**
   * Sends what the decisions pick, by the route they pick, as far as the budget lets it (each shard's worst case is
   * reserved first); asks the scheduler for room for the rest.
   */
  async function submitWhatFits() {
    const plan = decide.planSubmissions(s, Date.now(), canary.optionsWhileCanary(s, opts));
    const budgeted = withinBudget(s, plan.picks, plan.route);
    plan.picks = budgeted.picks;
    reserveShards(s, plan.picks, plan.route);
    for (const shard of plan.picks) {
      if (plan.route === 'batch') seat.take(shard);
      takeShard(s, shard);
    }
    if (plan.route === 'batch') await askForRoom(plan.blocked, budgeted.held, plan.picks);
    else if (s.budget) showHeld(budgeted.held ? 'budget' : undefined);
    if (plan.picks.length === 0) return;
    if (plan.route === 'sync') return plan.picks.forEach((shard) => sync.start(shard));
    if (plan.route === 'sla_missed') {
      await mapLimit(plan.picks, opts.activityConcurrency, (shard) => sync.markMissed(shard));
      return;
    }
    if (submitter) submitter.enqueue(plan.picks);
    else await batches.submit(plan.picks);
  }

  /** What waits in the submit lane is not sent; the creates already running answer first. */
  async function stopSubmitting() {
    if (!submitter) return;
    submitter.dropWaiting();
    await condition(submitter.idle);
  }

  /** Asks the scheduler for room for what is left to send, and says why the job waits when it must. */
  async function askForRoom(blocked: boolean, budgetHeld = false, taken: ShardRef[] = []) {
    const wanted = decide.roomWanted(s, canary.optionsWhileCanary(s, opts));
    // A job held at its budget asks only for room it could use: room it cannot spend would starve other jobs.
    const usable = withinBudget(s, wanted.next, 'batch');
    await seat.ask(wanted.inFlight, usable.picks, taken);
    const atBudget = budgetHeld || (usable.held && usable.picks.length === 0);
    showHeld(atBudget ? 'budget' : decide.heldReasonOf(blocked, s.seat, opts.useScheduler));
  }

  /** Says why the job does not send what it has (or that it sends again): phase held, with the reason. */
  function showHeld(reason: string | undefined) {
    if (reason !== s.heldReason) {
      s.heldReason = reason;
      upsertSearchAttributes([{ key: SluicePhase, value: reason ? 'held' : s.phase }]);
    }
  }

  /** Told to make room (or paused): give back unspent room and, if asked, cancel the youngest batches. */
  async function stepAsideIfAsked() {
    if (!decide.mustStepAside(s.seat)) return;
    const preemption = await seat.stepAside();
    if (!preemption) return;
    const victims = decide.preemptionVictims(s.inFlight, preemption.cancelRequests);
    if (victims.length === 0) return;
    for (const b of victims) b.preempted = true;
    await batches.cancel(victims, `cancel ${victims.length} young batches to make room for ${preemption.by}`);
  }

  /** The canary's verdict, once: a canary that failed stops the job before anything else is sent. */
  function applyCanaryVerdict() {
    const verdict = canary.canaryVerdict(s);
    if (verdict) s.canary = verdict;
    const now = s.canary?.state;
    if (now === canaryApplied) return;
    canaryApplied = now;
    if (now === 'stopped') return dropUnsent(s);
    upsertSearchAttributes([{ key: SluicePhase, value: s.phase }]);
  }

  async function packRetriesIfDue() {
    if (!decide.retriesDue(s, Date.now(), opts)) return;
    s.retryRound++;
    const { shards } = await acts.packRetries.executeWithOptions(
      { ...quick, summary: `pack ${s.pendingRetryRequests} requests to retry` },
      [{ jobId: spec.jobId, batchIds: s.pendingRetryBatchIds, round: s.retryRound, batchSize: opts.batchSize }],
    );
    retriesPacked(s, shards);
  }

  async function cancelStragglers() {
    const stragglers = decide.stragglersToCancel(s, Date.now(), opts);
    if (stragglers.length === 0) return;
    for (const b of stragglers) b.straggler = true;
    // A straggler proves the learned window wrong for now: the rest of the job plans with the fixed window again.
    if (decide.learnedWindowDisproved(sla, s.learnedWindowMs)) {
      s.learnedWindowMs = sla.windowMs;
      opts = decide.withLearnedWindowOf(spec.options, s.learnedWindowMs);
    }
    await batches.cancel(stragglers, `cancel ${stragglers.length} batches that can no longer meet the deadline`);
  }

  async function cancelEverything() {
    s.canceledAtMs = Date.now();
    setPhase('canceling', `cancel ${s.inFlight.length} batches in flight`);
    dropUnsent(s);
    await stopSubmitting();
    if (s.inFlight.length === 0) return;
    await batches.cancel(s.inFlight, `cancel ${s.inFlight.length} batches`);
  }
}
