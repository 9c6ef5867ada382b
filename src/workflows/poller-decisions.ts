/**
 * The decisions of an account's poller and of the jobs it serves, as pure functions over plain state: who is
 * watched, when the next walk of the batch list is due (the fastest cadence any job needs, by the job's own
 * poll-interval rule), what each job is told after a walk, and when a job must refresh its registration or stop
 * trusting a silent poller.
 */
import { nextPollIntervalMs, type PollOptions } from '../domain/poll';
import type { EndedBatch, WatchBatchesInput, WatchedBatch } from '../contracts/activities';
import type { BatchesEndedReport, PollerStats, PollerView } from '../contracts/messages';

export interface PollerMember {
  jobId: string;
  batches: WatchedBatch[];
  poll: PollOptions;
  /** The interval until this job's next walk is due: grown by its poll options while nothing of it ends. */
  intervalMs: number;
  dueAtMs: number;
  /** The job's last registration: a job that stops refreshing is dropped. */
  refreshedAtMs: number;
  /** The job registered since its last report: the next walk answers it even if nothing of it ended. */
  ackDue: boolean;
}

/** Plain JSON: carried through continue-as-new as it is. */
export interface PollerState {
  members: PollerMember[];
  stats: PollerStats;
}

export function initialPollerState(): PollerState {
  return { members: [], stats: { walks: 0, calls: 0, maxCallsPerWalk: 0, maxWatched: 0, reports: 0 } };
}

/** A job re-registers its whole set this often; a lost registration or a restarted poller costs at most this. */
export function refreshEveryMs(poll: PollOptions): number {
  return 2 * poll.capMs;
}

/**
 * A registration the poller has not answered for this long (it answers each at its next walk, within the job's
 * interval) means it is not walking: the job polls its own batches once and registers again.
 */
export function silenceLimitMs(poll: PollOptions): number {
  return 10 * poll.capMs;
}

/**
 * Never less than this, in time (jobs patched 'account-poll-silence-floor'): with fifty jobs on a loaded worker a
 * healthy poller's tasks and walks take seconds each, and a job answered 10 s after it registered was read as
 * deserted, polling alone what the poller was about to tell it. A terminated poller costs this much more delay.
 * The job's `poll.silenceFloorMs` sets another floor.
 */
export const SILENCE_FLOOR_MS = 30_000;

export function silenceLimitWithFloorMs(poll: PollOptions): number {
  return Math.max(silenceLimitMs(poll), poll.silenceFloorMs ?? SILENCE_FLOOR_MS);
}

/**
 * A job that has not refreshed for this long is gone (terminated, or polling on its own). Long: a live job refreshes
 * only between its activities, and a round of submits or downloads may take minutes behind a busy task queue; a dead
 * job's batches cost nothing meanwhile (they are in the one walk anyway, and the report that fails drops the job).
 */
export function memberExpiryMs(poll: PollOptions): number {
  return 30 * poll.capMs;
}

/**
 * A job's registration replaces its set (idempotent: the same set twice changes nothing but the refresh time). A new
 * job is due after its first interval; an empty set leaves the poller.
 */
export function applyWatch(state: PollerState, w: WatchBatchesInput, nowMs: number): void {
  const i = state.members.findIndex((m) => m.jobId === w.jobId);
  if (w.batches.length === 0) {
    if (i >= 0) state.members.splice(i, 1);
    return;
  }
  const existing = i >= 0 ? state.members[i] : undefined;
  if (existing) {
    existing.batches = w.batches;
    existing.poll = w.poll;
    existing.refreshedAtMs = nowMs;
    existing.ackDue = true;
    // Options may have shortened: never wait longer than the job's longest interval from now.
    existing.dueAtMs = Math.min(existing.dueAtMs, nowMs + w.poll.capMs);
    return;
  }
  const intervalMs = nextPollIntervalMs(undefined, w.poll);
  state.members.push({
    jobId: w.jobId,
    batches: w.batches,
    poll: w.poll,
    intervalMs,
    dueAtMs: nowMs + intervalMs,
    refreshedAtMs: nowMs,
    ackDue: true,
  });
}

/** Drops jobs that stopped refreshing; returns their ids. */
export function expireMembers(state: PollerState, nowMs: number): string[] {
  const gone = state.members.filter((m) => nowMs - m.refreshedAtMs > memberExpiryMs(m.poll)).map((m) => m.jobId);
  if (gone.length) state.members = state.members.filter((m) => !gone.includes(m.jobId));
  return gone;
}

export function dropMember(state: PollerState, jobId: string): void {
  state.members = state.members.filter((m) => m.jobId !== jobId);
}

/** When the next walk is due: the earliest job's (undefined with nobody watched). */
export function nextWalkAtMs(state: PollerState): number | undefined {
  if (state.members.length === 0) return undefined;
  return Math.min(...state.members.map((m) => m.dueAtMs));
}

/** Every batch any job watches, each once: one walk serves them all. */
export function watchedBatches(state: PollerState): WatchedBatch[] {
  const seen = new Set<string>();
  const out: WatchedBatch[] = [];
  for (const m of state.members) {
    for (const b of m.batches) {
      if (seen.has(b.batchId)) continue;
      seen.add(b.batchId);
      out.push(b);
    }
  }
  return out;
}

export interface WalkOutcome {
  ended: EndedBatch[];
  calls: number;
}

/**
 * After a walk: each job whose batches ended (or that registered since its last report) gets a report; ended batches
 * leave the watch (the job collects them), and a job with nothing left leaves the poller. Each job's interval follows
 * its own rule: back to the start after progress, else grown.
 */
export function afterWalk(
  state: PollerState,
  walk: WalkOutcome,
  watched: number,
  nowMs: number,
): { jobId: string; report: BatchesEndedReport }[] {
  const ended = new Map(walk.ended.map((e) => [e.batchId, e]));
  const reports: { jobId: string; report: BatchesEndedReport }[] = [];
  const st = state.stats;
  st.walks++;
  st.calls += walk.calls;
  st.maxCallsPerWalk = Math.max(st.maxCallsPerWalk, walk.calls);
  st.maxWatched = Math.max(st.maxWatched, watched);
  for (const m of state.members) {
    const mine = m.batches.flatMap((b) => {
      const e = ended.get(b.batchId);
      return e ? [e] : [];
    });
    if (mine.length > 0 || m.ackDue) reports.push({ jobId: m.jobId, report: { ended: mine, walkedAtMs: nowMs } });
    m.ackDue = false;
    if (mine.length > 0) m.batches = m.batches.filter((b) => !ended.has(b.batchId));
    m.intervalMs = nextPollIntervalMs(mine.length > 0 ? undefined : m.intervalMs, m.poll);
    m.dueAtMs = nowMs + m.intervalMs;
  }
  st.reports += reports.length;
  state.members = state.members.filter((m) => m.batches.length > 0);
  return reports;
}

export function pollerView(state: PollerState): PollerView {
  return {
    stats: { ...state.stats },
    jobs: state.members.map((m) => ({ jobId: m.jobId, batches: m.batches.length, intervalMs: m.intervalMs, dueAtMs: m.dueAtMs })),
  };
}

// The job's side

/** What a job keeps of its poller (plain JSON, in JobState; absent: the job has not asked yet). */
export interface AccountPollState {
  /** The poller's id; absent when the worker turned the account poll off (the job then polls on its own). */
  pollerId?: string;
  /** Whether the worker said on or off: asked once per job. */
  decided: boolean;
  registeredAtMs?: number;
  /** The job's batchesCreated when it last registered: a batch created since means the poller must hear the set. */
  registeredCreated?: number;
  /** The SLA state the job last told with a registration (the poller's jobs do not poll, which told it before). */
  toldAtRisk?: boolean;
  /** When the earliest registration not yet answered by a report was sent, for the silence limit. */
  unansweredSinceMs?: number;
  /** Ended batches reported and not yet collected. */
  ended: EndedBatch[];
}

export function initialAccountPoll(): AccountPollState {
  return { decided: false, ended: [] };
}

/** A job with an SLA tells a change of its at-risk state with its next registration (for the at-risk gauge). */
export function atRiskToTell(a: AccountPollState, slaAtRisk: boolean | undefined): boolean {
  return slaAtRisk !== undefined && a.pollerId !== undefined && slaAtRisk !== (a.toldAtRisk ?? false);
}

/** Registers again when the set has a batch the poller has not heard of, or the refresh is due. */
export function registrationDue(
  a: AccountPollState,
  job: { inFlight: readonly unknown[]; batchesCreated: number },
  nowMs: number,
  poll: PollOptions,
): boolean {
  if (job.inFlight.length === 0) return false;
  if (!a.decided) return true;
  if (a.pollerId === undefined) return false;
  if (job.batchesCreated !== a.registeredCreated) return true;
  return a.registeredAtMs === undefined || nowMs - a.registeredAtMs >= refreshEveryMs(poll);
}

/**
 * The poller left a registration unanswered past the limit: poll once on the job's own (the old activity), then
 * register again. A job busy with its own activities for a while sent nothing to answer, so it is not misled.
 */
export function pollerSilent(a: AccountPollState, nowMs: number, poll: PollOptions, floor = false): boolean {
  if (a.pollerId === undefined || a.unansweredSinceMs === undefined) return false;
  return nowMs - a.unansweredSinceMs > (floor ? silenceLimitWithFloorMs(poll) : silenceLimitMs(poll));
}

/** A registration sent: the silence clock runs from the earliest one not yet answered. */
export function registered(a: AccountPollState, nowMs: number, createdSoFar: number, pollerId: string | undefined): void {
  a.decided = true;
  a.pollerId = pollerId;
  a.registeredAtMs = nowMs;
  a.registeredCreated = createdSoFar;
  if (pollerId !== undefined) a.unansweredSinceMs ??= nowMs;
}

/** A report from the poller: what ended is kept (once each) for the lane to collect. */
export function applyReport(a: AccountPollState, report: BatchesEndedReport): void {
  a.unansweredSinceMs = undefined;
  for (const e of report.ended) if (!a.ended.some((x) => x.batchId === e.batchId)) a.ended.push(e);
}

/**
 * How long the job waits while the poller serves it: a wait that only stands for the next poll (not shortened by an
 * SLA decision or the cancel grace) lasts until the next refresh instead, since reports wake the job themselves.
 */
export function waitWhileServed(
  waitMs: number,
  plainIntervalMs: number,
  a: AccountPollState,
  nowMs: number,
  poll: PollOptions,
): number {
  if (waitMs < plainIntervalMs || a.registeredAtMs === undefined) return waitMs;
  return Math.max(waitMs, a.registeredAtMs + refreshEveryMs(poll) - nowMs);
}

/** Takes the reported batches that are still in flight; the rest (collected meanwhile) are forgotten. */
export function takeEnded(a: AccountPollState, inFlight: readonly { batchId: string }[]): EndedBatch[] {
  const ids = new Set(inFlight.map((b) => b.batchId));
  const mine = a.ended.filter((e) => ids.has(e.batchId));
  a.ended = [];
  return mine;
}
