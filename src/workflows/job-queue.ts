/**
 * A job's seat in its API key's scheduler: it asks for room before submitting batches, spends the room it is
 * granted, gives it back as batches end, and steps aside when told to. Jobs that refresh re-ask periodically with
 * what they hold (the whole of it, not a change), so a restarted scheduler rebuilds them and one that lost them
 * (terminated) never leaves them waiting. All state lives in the job's state (plain JSON, carried through
 * continue-as-new); the seat only adds the messaging.
 */
import { getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';
import {
  grantRoomSignal,
  leaveQueueSignal,
  pauseSignal,
  preemptSignal,
  releaseRoomSignal,
  resumeSignal,
  setPrioritySignal,
  type RoomRequest,
} from '../contracts/messages';
import type { RoomAnswer } from '../contracts/activities';
import type { ShardRef } from '../domain/job';
import type { Room } from '../domain/queue';
import { addRoom, refreshDue, untilRefreshMs } from '../domain/queue-membership';
import { schedulerWorkflowId } from '../contracts/workflow-ids';

/** Until the first answer says otherwise (the worker's SLUICE_QUEUE_REFRESH_MS). */
const DEFAULT_REFRESH_MS = 60_000;

export interface QueueSeatState {
  priority: number;
  /** Room granted and not yet spent on a submission. */
  grant: Room;
  paused: boolean;
  /** The job that made this one step aside, until room is granted again. */
  preemptedBy?: string;
  /** A preemption not yet acted on. */
  pendingPreempt?: { by: string; cancelRequests: number };
  /** What was last asked for, so the same request is not sent twice. */
  asked?: { target: Room; priority: number; paused: boolean };
  /** The scheduler that answered last (one per API key); absent in runs that never asked: the task queue's. */
  schedulerId?: string;
  /** When the job last asked (workflow time) and how often it must refresh (jobs that refresh only). */
  askedAtMs?: number;
  refreshMs?: number;
  /** Grants received from the scheduler, as it numbers them. */
  grantSeq?: number;
}

export function initialSeat(priority: number): QueueSeatState {
  return { priority, grant: { requests: 0, batches: 0 }, paused: false };
}

/** May this shard be submitted by batch now, with this much room granted? Without a scheduler, always. */
export function seatAllows(seat: QueueSeatState, schedulerEnabled: boolean, grant: Room, shard: ShardRef): boolean {
  if (seat.paused || seat.pendingPreempt) return false;
  if (!schedulerEnabled) return true;
  return grant.requests >= shard.requests && grant.batches >= 1;
}

interface SeatOptions {
  jobId: string;
  taskQueue: string;
  deadlineMs?: number;
  preempt?: 'stop' | 'cancel';
  enabled: boolean;
  /** Re-ask periodically with what the job holds (runs started before this existed do not: patched). */
  refresh: boolean;
  /** Sends the request through the requestRoom activity (which starts the scheduler if needed). */
  requestRoom(request: RoomRequest, summary: string): Promise<RoomAnswer>;
  /** Called when a message changes what the job may do, to wake its loop. */
  wake(): void;
  onPriority(priority: number): void;
}

export type QueueSeat = ReturnType<typeof joinQueue>;

export function joinQueue(seat: QueueSeatState, o: SeatOptions) {
  const scheduler = () => getExternalWorkflowHandle(seat.schedulerId ?? schedulerWorkflowId(o.taskQueue));
  const enabled = o.enabled;
  const refreshMs = () => seat.refreshMs ?? DEFAULT_REFRESH_MS;
  /** Room the job holds by its own count: in flight, being submitted now, granted and not yet spent. */
  const heldNow = (inFlight: Room, pending: readonly ShardRef[]) =>
    addRoom(inFlight, seat.grant, { requests: pending.reduce((n, sh) => n + sh.requests, 0), batches: pending.length });
  const holds = (r: Room) => r.requests > 0 || r.batches > 0;

  setHandler(grantRoomSignal, ({ room, seq }) => {
    seat.grant = { requests: seat.grant.requests + room.requests, batches: seat.grant.batches + room.batches };
    if (seq !== undefined) seat.grantSeq = seq;
    seat.preemptedBy = undefined;
    o.wake();
  });
  setHandler(preemptSignal, (p) => {
    seat.pendingPreempt = p;
    seat.preemptedBy = p.by;
    o.wake();
  });
  setHandler(setPrioritySignal, ({ priority }) => {
    seat.priority = priority;
    o.onPriority(priority);
    o.wake();
  });
  setHandler(pauseSignal, () => {
    seat.paused = true;
    o.wake();
  });
  setHandler(resumeSignal, () => {
    seat.paused = false;
    o.wake();
  });

  async function release(room: Room) {
    if (!enabled || (room.requests === 0 && room.batches === 0)) return;
    // The scheduler keeps `want` as target − held at the time of the ask; once held shrinks, the same target
    // means more room, so the next ask must be sent again (else a job can wait forever for room it never gets).
    seat.asked = undefined;
    try {
      await scheduler().signal(releaseRoomSignal, { jobId: o.jobId, room });
    } catch {
      // No scheduler (it ended while idle): there is nothing to give back to.
    }
  }

  return {
    /** May this shard be submitted now? Without a scheduler, always (the job's own limits still apply). */
    canTake(shard: ShardRef): boolean {
      return seatAllows(seat, enabled, seat.grant, shard);
    },
    take(shard: ShardRef) {
      if (!enabled) return;
      seat.grant = { requests: seat.grant.requests - shard.requests, batches: seat.grant.batches - 1 };
    },
    /** Room given back when batches end (or were never sent). */
    release,
    /**
     * Asks for room for what the job could submit now (or says it is paused); no repeat of the same request, except
     * as a refresh when one is due while the job holds or waits for room. `pending`: shards taken from the grant
     * this round and not yet created (still the job's room).
     */
    async ask(inFlight: Room, next: ShardRef[], pending: readonly ShardRef[] = []) {
      if (!enabled) return;
      const wanted = next.reduce((n, sh) => n + sh.requests, 0);
      // A refresh states the whole: what it holds (pending included) and what it wants to hold in total.
      const base = o.refresh ? addRoom(inFlight, { requests: pending.reduce((n, sh) => n + sh.requests, 0), batches: pending.length }) : inFlight;
      const target = { requests: base.requests + wanted, batches: base.batches + next.length };
      const needs = next.length > 0 && !(seat.grant.requests >= next[0]!.requests && seat.grant.batches >= 1);
      const same =
        seat.asked &&
        seat.asked.priority === seat.priority &&
        seat.asked.paused === seat.paused &&
        seat.asked.target.requests === target.requests &&
        seat.asked.target.batches === target.batches;
      const held = heldNow(inFlight, pending);
      const refreshNow = o.refresh && refreshDue(seat.askedAtMs, refreshMs(), Date.now()) && (holds(held) || needs);
      if (!refreshNow && (same || (!needs && !seat.paused && seat.asked?.paused !== true))) return;
      seat.asked = { target, priority: seat.priority, paused: seat.paused };
      const request: RoomRequest = {
        jobId: o.jobId,
        priority: seat.priority,
        deadlineMs: o.deadlineMs,
        target,
        minRequests: next[0]?.requests ?? 1,
        paused: seat.paused,
        preempt: o.preempt,
        ...(o.refresh && { held, grantSeq: seat.grantSeq ?? 0, ...(seat.askedAtMs !== undefined && { rejoin: true }) }),
      };
      if (o.refresh) seat.askedAtMs = Date.now();
      const answer = await o.requestRoom(
        request,
        refreshNow && same
          ? `refresh the seat in the scheduler: holds ${held.requests} requests (priority ${seat.priority})`
          : `ask the scheduler for room: ${wanted} requests (priority ${seat.priority})`,
      );
      // Runs recorded before this answered only an id (the same scheduler they signal); keep both as given.
      if (answer?.schedulerId) seat.schedulerId = answer.schedulerId;
      if (o.refresh && answer?.refreshMs) seat.refreshMs = answer.refreshMs;
    },
    /** Outside the submit path (collecting, canceling, sending by the sync API): refresh what the job holds when due. */
    async refreshIfDue(inFlight: Room) {
      if (!enabled || !o.refresh || seat.askedAtMs === undefined) return;
      if (!holds(heldNow(inFlight, [])) || !refreshDue(seat.askedAtMs, refreshMs(), Date.now())) return;
      await this.ask(inFlight, []);
    },
    /** The job's timer, cut so that it wakes when its next refresh falls due (while it holds or waits for room). */
    waitMs(timeoutMs: number, inFlight: Room): number {
      if (!enabled || !o.refresh || seat.askedAtMs === undefined) return timeoutMs;
      if (!holds(heldNow(inFlight, [])) && seat.asked === undefined) return timeoutMs;
      // A refresh already due was not sent because there was nothing to refresh: no cut (never a 1 ms loop).
      if (refreshDue(seat.askedAtMs, refreshMs(), Date.now())) return timeoutMs;
      return Math.min(timeoutMs, untilRefreshMs(seat.askedAtMs, refreshMs(), Date.now()));
    },
    /** Gives back room not yet spent; the caller cancels young batches when asked to. */
    async stepAside(): Promise<{ by: string; cancelRequests: number } | undefined> {
      const p = seat.pendingPreempt;
      const unused = seat.grant;
      seat.grant = { requests: 0, batches: 0 };
      seat.asked = undefined;
      await release(unused);
      if (!p) return undefined;
      seat.pendingPreempt = undefined;
      return p;
    },
    /** A job on its way out after a failure gives its room back where it can (expiry covers a terminate). */
    async leaveOnFailure() {
      if (o.refresh) await this.leave();
    },
    async leave() {
      if (!enabled) return;
      try {
        await scheduler().signal(leaveQueueSignal, { jobId: o.jobId });
      } catch {
        // Already gone.
      }
    },
  };
}
