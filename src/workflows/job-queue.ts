/**
 * A job's seat in its task queue's scheduler: it asks for room before submitting batches, spends the room it is
 * granted, gives it back as batches end, and steps aside when told to. All state lives in the job's state (plain
 * JSON, carried through continue-as-new); the seat only adds the messaging.
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
import type { ShardRef } from '../domain/job';
import type { Room } from '../domain/queue';
import { schedulerWorkflowId } from './scheduler';

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
  /** Sends the request through the requestRoom activity (which starts the scheduler if needed). */
  requestRoom(request: RoomRequest, summary: string): Promise<unknown>;
  /** Called when a message changes what the job may do, to wake its loop. */
  wake(): void;
  onPriority(priority: number): void;
}

export type QueueSeat = ReturnType<typeof joinQueue>;

export function joinQueue(seat: QueueSeatState, o: SeatOptions) {
  const scheduler = () => getExternalWorkflowHandle(schedulerWorkflowId(o.taskQueue));
  const enabled = o.enabled;

  setHandler(grantRoomSignal, ({ room }) => {
    seat.grant = { requests: seat.grant.requests + room.requests, batches: seat.grant.batches + room.batches };
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
    /** Asks for room for what the job could submit now (or says it is paused); no repeat of the same request. */
    async ask(inFlight: Room, next: ShardRef[]) {
      if (!enabled) return;
      const wanted = next.reduce((n, sh) => n + sh.requests, 0);
      const target = { requests: inFlight.requests + wanted, batches: inFlight.batches + next.length };
      const needs = next.length > 0 && !(seat.grant.requests >= next[0]!.requests && seat.grant.batches >= 1);
      const same =
        seat.asked &&
        seat.asked.priority === seat.priority &&
        seat.asked.paused === seat.paused &&
        seat.asked.target.requests === target.requests &&
        seat.asked.target.batches === target.batches;
      if (same || (!needs && !seat.paused && seat.asked?.paused !== true)) return;
      seat.asked = { target, priority: seat.priority, paused: seat.paused };
      await o.requestRoom(
        {
          jobId: o.jobId,
          priority: seat.priority,
          deadlineMs: o.deadlineMs,
          target,
          minRequests: next[0]?.requests ?? 1,
          paused: seat.paused,
          preempt: o.preempt,
        },
        `ask the scheduler for room: ${wanted} requests (priority ${seat.priority})`,
      );
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
