/**
 * A job's side of the account poll: it registers the batches it has in flight with its account's poller (the whole
 * set, when it has a new batch and again every refresh), keeps what the poller reports, and tells the batch lane
 * which batches ended. A poller that stays silent past the limit is not trusted: the lane polls on its own once
 * (the old activity) and registers again. State lives in JobState.accountPoll (plain JSON).
 */
import { patched, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { EndedBatch, SluiceActivities } from '../contracts/activities';
import { batchesEndedSignal } from '../contracts/messages';
import type { PollOptions } from '../domain/poll';
import { shortActivity } from './activity-options';
import type { JobState } from './job-state';
import { applyReport, atRiskToTell, initialAccountPoll, pollerSilent, registered, registrationDue, takeEnded, waitWhileServed } from './poller-decisions';

/**
 * A local activity: one signal-with-start, which must not wait in the task queue behind the job's own submits and
 * downloads (a refresh that comes late reads as a silent poller).
 */
const { watchBatches } = proxyLocalActivities<SluiceActivities>(shortActivity);

export type AccountPoll = ReturnType<typeof accountPollOf>;

/**
 * patched() id: the silence limit has a floor in time (SILENCE_FLOOR_MS), and its clock starts when the registration
 * was delivered (after the local activity), not when the job decided to send it (seconds earlier on a busy worker);
 * and only a report naming a batch still in flight ends the job's wait (a stale one is dropped when it comes).
 */
export const ACCOUNT_POLL_ROBUST = 'account-poll-robust';

export function accountPollOf(jobId: string, s: JobState, poll: PollOptions, wake: () => void) {
  const a = (s.accountPoll ??= initialAccountPoll());
  const robust = patched(ACCOUNT_POLL_ROBUST);
  setHandler(batchesEndedSignal, (report) => {
    // A late report (its batches collected by the job's own poll meanwhile) keeps nothing and wakes nobody.
    const kept = robust ? { ...report, ended: stillInFlight(report.ended, s) } : report;
    applyReport(a, kept);
    if (kept.ended.length > 0) wake();
  });

  return {
    /** The poller serves this job: its reports say what ended (else the lane polls on its own). */
    serving(): boolean {
      return a.decided && a.pollerId !== undefined;
    },
    /** The job's wait: while served, a plain poll interval becomes the time to the next refresh (reports wake it). */
    waitMs(waitMs: number, plainIntervalMs: number, nowMs: number): number {
      if (!(a.decided && a.pollerId !== undefined) || s.inFlight.length === 0) return waitMs;
      // Batches the submit lane created since the last registration: the next poll round registers them.
      if (s.batchesCreated !== a.registeredCreated) return waitMs;
      return waitWhileServed(waitMs, plainIntervalMs, a, nowMs, poll);
    },
    /**
     * Reports wait to be collected. Not while nothing is in flight: a report that came after its batches were
     * collected (by the job's own poll) would end every wait at once, and a job whose lane still creates would loop
     * without yielding until the worker crashed.
     */
    reported(): boolean {
      if (robust) return stillInFlight(a.ended, s).length > 0;
      return a.ended.length > 0 && s.inFlight.length > 0;
    },
    /** The poller has said nothing for too long: the lane polls on its own once, and the set is registered again. */
    silent(nowMs: number): boolean {
      if (!pollerSilent(a, nowMs, poll, robust)) return false;
      a.unansweredSinceMs = undefined;
      a.registeredAtMs = undefined; // registers again after this poll
      return true;
    },
    /** What the poller reported ended, of the batches still in flight. */
    takeEnded(): EndedBatch[] {
      return takeEnded(a, s.inFlight);
    },
    /**
     * A job whose submit lane created its first batches has not registered yet: it registers before its first poll
     * round, so that round is already the poller's (runs whose submits registered are decided by then).
     */
    async registerFirst(nowMs: number) {
      if (!a.decided) await this.watch(nowMs);
    },
    /** Registers the batches in flight when the poller has not heard of the newest, or the refresh is due. */
    async watch(nowMs: number, slaAtRisk?: boolean) {
      if (s.inFlight.length === 0) {
        a.registeredCreated = undefined;
        return;
      }
      if (!registrationDue(a, s, nowMs, poll) && !atRiskToTell(a, slaAtRisk)) return;
      const batches = s.inFlight.map(({ batchId, submittedAtMs }) => ({ batchId, submittedAtMs }));
      const r = await watchBatches({ jobId, batches, poll, ...(slaAtRisk === undefined ? {} : { slaAtRisk }) });
      if (slaAtRisk !== undefined) a.toldAtRisk = slaAtRisk;
      // Date.now() after the local activity: the time the poller had it (workflow time moves on with the activation).
      registered(a, robust ? Date.now() : nowMs, s.batchesCreated, r.pollerId);
    },
  };
}

function stillInFlight(ended: readonly EndedBatch[], s: JobState): EndedBatch[] {
  return ended.filter((e) => s.inFlight.some((b) => b.batchId === e.batchId));
}
