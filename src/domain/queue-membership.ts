/**
 * How the scheduler keeps its members without trusting its own memory alone: jobs re-ask periodically with the
 * whole of what they hold and want (a refresh), so a scheduler that was terminated and started again rebuilds its
 * members from the refreshes, and a member that stops refreshing (a terminated job) expires and its room returns to
 * the pool. Pure: the scheduler workflow and the job's seat apply these verdicts.
 */
import { z } from 'zod';
import type { QueueMember, Room } from './queue';

export const QueueRefreshSchema = z.strictObject({
  /** How often a job holding or wanting room re-asks with what it holds. */
  refreshMs: z.number().int().min(100).default(60_000),
  /** Refreshes a member may miss before it expires and its room returns to the pool. */
  missedRefreshes: z.number().int().min(1).default(3),
});
export type QueueRefreshInput = z.input<typeof QueueRefreshSchema>;
export type QueueRefresh = z.output<typeof QueueRefreshSchema>;

/** A member without a refresh for this long has gone (terminated, or its workers are gone for good). */
export function expireAfterMs(r: QueueRefresh): number {
  return r.refreshMs * r.missedRefreshes;
}

/** What a job's request says (structurally the RoomRequest of src/contracts/activities.ts). */
export interface MemberAsk {
  jobId: string;
  priority: number;
  deadlineMs?: number;
  target: Room;
  minRequests: number;
  paused: boolean;
  preempt?: 'stop' | 'cancel';
  /** A refresh: the room the job holds by its own count (in flight, being submitted, granted and unspent). */
  held?: Room;
  /** The number of grants the job has received from this scheduler (matched against the member's count). */
  grantSeq?: number;
  /** Set by the requestRoom activity: the member expires after this long without a request, and refreshes this often. */
  expireAfterMs?: number;
  refreshMs?: number;
  /** The job has asked a scheduler before: if this one does not know it, this one lost its state (a terminate). */
  rejoin?: boolean;
}

/**
 * A scheduler that meets a job which asked before but is unknown to it has lost its members (it was terminated
 * and started again): it grants nothing until every holder has had time to refresh (one and a half periods), so
 * room that is still in use is not handed out twice. Once per run; undefined: no reason to wait.
 */
export function rebuildUntilMs(known: boolean, r: MemberAsk, nowMs: number, current: number | undefined): number | undefined {
  if (current !== undefined || known || !r.rejoin || r.refreshMs === undefined) return current;
  return nowMs + Math.ceil(r.refreshMs * 1.5);
}

/**
 * The member after its request. A request that says what the job holds is believed when the job has seen every
 * grant the scheduler counts (a grant still on its way would otherwise be lost from the count), and always by a
 * scheduler that does not know the job yet (one restarted after a terminate). Requests without it (runs started
 * before refreshes existed) keep the scheduler's own count, as before.
 */
export function memberAfterAsk(m: QueueMember | undefined, r: MemberAsk, arrival: number, nowMs: number): QueueMember {
  const next: QueueMember = m
    ? { ...m }
    : {
        jobId: r.jobId,
        priority: r.priority,
        arrival,
        held: { requests: 0, batches: 0 },
        want: { requests: 0, batches: 0 },
        minRequests: r.minRequests,
        paused: false,
      };
  if (r.held && (!m || (r.grantSeq ?? 0) === (m.grantSeq ?? 0))) {
    next.held = { requests: Math.max(0, r.held.requests), batches: Math.max(0, r.held.batches) };
    next.grantSeq = r.grantSeq ?? 0;
  }
  next.priority = r.priority;
  next.deadlineMs = r.deadlineMs;
  next.minRequests = r.minRequests;
  next.paused = r.paused;
  next.preempt = r.preempt;
  next.want = {
    requests: Math.max(0, r.target.requests - next.held.requests),
    batches: Math.max(0, r.target.batches - next.held.batches),
  };
  if (r.expireAfterMs !== undefined) {
    next.lastSeenMs = nowMs;
    next.expireAfterMs = r.expireAfterMs;
  }
  return next;
}

/** Members that promised to refresh and have not for their expiry: their room goes back to the pool. */
export function expiredMembers(members: readonly QueueMember[], nowMs: number): string[] {
  return members.filter((m) => expiresAt(m) !== undefined && nowMs >= expiresAt(m)!).map((m) => m.jobId);
}

/** When the next member expires, if any can (the scheduler wakes then even if no message comes). */
export function nextExpiryAtMs(members: readonly QueueMember[]): number | undefined {
  let next: number | undefined;
  for (const m of members) {
    const at = expiresAt(m);
    if (at !== undefined && (next === undefined || at < next)) next = at;
  }
  return next;
}

function expiresAt(m: QueueMember): number | undefined {
  return m.expireAfterMs === undefined || m.lastSeenMs === undefined ? undefined : m.lastSeenMs + m.expireAfterMs;
}

/** The seat's view: does a job that asked at `askedAtMs` owe the scheduler a refresh now? */
export function refreshDue(askedAtMs: number | undefined, refreshMs: number, nowMs: number): boolean {
  return askedAtMs === undefined || nowMs - askedAtMs >= refreshMs;
}

/** How long a job may wait before its next refresh falls due (its timer is cut to this). */
export function untilRefreshMs(askedAtMs: number, refreshMs: number, nowMs: number): number {
  return Math.max(1, askedAtMs + refreshMs - nowMs);
}

export function addRoom(...rooms: Room[]): Room {
  return rooms.reduce((a, b) => ({ requests: a.requests + b.requests, batches: a.batches + b.batches }), {
    requests: 0,
    batches: 0,
  });
}
