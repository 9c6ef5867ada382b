/**
 * Room in the account's batch queue, shared by every job of a task queue: who gets it (priority, then earliest
 * deadline, then arrival), and who must step aside when a more urgent job waits. Pure: the scheduler workflow
 * applies the verdicts.
 */
import { z } from 'zod';

export const QueueCapacitySchema = z.strictObject({
  /** Requests waiting in the API's batch queue at once (by tier roughly 100k-500k). */
  maxRequests: z.number().int().min(1).default(100_000),
  /** Batches in flight at once, across all jobs. */
  maxBatches: z.number().int().min(1).default(1_000),
  /** What a preempted job does when it has no preference: stop submitting, or also cancel young batches. */
  preempt: z.enum(['stop', 'cancel']).default('stop'),
});
export type QueueCapacityInput = z.input<typeof QueueCapacitySchema>;
export type QueueCapacity = z.output<typeof QueueCapacitySchema>;

export interface Room {
  requests: number;
  batches: number;
}

/** One job as the scheduler sees it. Plain JSON: it is the scheduler's state. */
export interface QueueMember {
  jobId: string;
  /** 1 is most urgent. */
  priority: number;
  deadlineMs?: number;
  /** Order of first arrival, for ties. */
  arrival: number;
  held: Room;
  /** What it could submit now beyond what it holds; 0 requests = nothing to ask. */
  want: Room;
  /** The smallest useful grant: its next sub-batch. */
  minRequests: number;
  paused: boolean;
  /** How it reacts to preemption; undefined = the scheduler's default. */
  preempt?: 'stop' | 'cancel';
  /** Set when told to step aside; cleared when it asks again. */
  preemptedBy?: string;
  /** Grants sent to it so far (only to members that refresh), so a refresh's `held` can be matched to them. */
  grantSeq?: number;
  /** Its last request (workflow time), and how long after it the member expires; absent: never expires. */
  lastSeenMs?: number;
  expireAfterMs?: number;
}

export interface Grant {
  jobId: string;
  room: Room;
}

export interface Preemption {
  jobId: string;
  by: string;
  /** Cancel young batches worth at least this many requests (0 = only stop submitting). */
  cancelRequests: number;
}

export function urgencyOrder(a: QueueMember, b: QueueMember): number {
  return (
    a.priority - b.priority ||
    (a.deadlineMs ?? Number.MAX_SAFE_INTEGER) - (b.deadlineMs ?? Number.MAX_SAFE_INTEGER) ||
    a.arrival - b.arrival
  );
}

export function freeRoom(members: readonly QueueMember[], cap: QueueCapacity): Room {
  const held = members.reduce((r, m) => ({ requests: r.requests + m.held.requests, batches: r.batches + m.held.batches }), {
    requests: 0,
    batches: 0,
  });
  return { requests: cap.maxRequests - held.requests, batches: cap.maxBatches - held.batches };
}

/**
 * Grants room in urgency order. A job that cannot get its next sub-batch blocks everyone less urgent (no
 * backfilling past it), and less urgent holders are asked to step aside for it, least urgent first.
 */
export function planQueue(members: readonly QueueMember[], cap: QueueCapacity): { grants: Grant[]; preemptions: Preemption[] } {
  const free = freeRoom(members, cap);
  const grants: Grant[] = [];
  const ordered = members.filter((m) => !m.paused).sort(urgencyOrder);
  let blocked: QueueMember | undefined;
  let remaining: Room = { requests: 0, batches: 0 };
  for (const m of ordered) {
    // Skip only a job that wants nothing: one holding spare requests but no batch (or the reverse) still needs a grant.
    if (m.want.requests <= 0 && m.want.batches <= 0) continue;
    remaining = m.want;
    // Its next sub-batch needs minRequests more (less if it already holds some spare) and one batch.
    const needRequests = Math.min(m.minRequests, Math.max(0, m.want.requests));
    const needBatches = m.want.batches > 0 ? 1 : 0;
    if (free.requests >= needRequests && free.batches >= needBatches) {
      const requests = Math.max(0, Math.min(m.want.requests, free.requests));
      // Batches in step with requests (about one per sub-batch), so granted room can always be spent.
      const inStep = requests > 0 ? Math.max(1, Math.ceil(requests / m.minRequests)) : m.want.batches;
      const batches = Math.max(0, Math.min(m.want.batches, free.batches, inStep));
      const room = { requests, batches };
      grants.push({ jobId: m.jobId, room });
      free.requests -= room.requests;
      free.batches -= room.batches;
      remaining = { requests: m.want.requests - room.requests, batches: m.want.batches - room.batches };
      if (remaining.requests <= 0 || remaining.batches <= 0) continue;
    }
    blocked = m;
    break;
  }
  if (!blocked) return { grants, preemptions: [] };

  const preemptions: Preemption[] = [];
  const need = { requests: Math.max(0, remaining.requests - free.requests), batches: Math.max(0, remaining.batches - free.batches) };
  const found = { requests: 0, batches: 0 };
  const lessUrgent = ordered.filter((m) => m.priority > blocked.priority).reverse();
  for (const m of lessUrgent) {
    if (found.requests >= need.requests && found.batches >= need.batches) break;
    if (m.held.requests === 0 && m.held.batches === 0) continue;
    found.requests += m.held.requests;
    found.batches += m.held.batches;
    if (m.preemptedBy) continue; // already told; its room is on the way back
    const mode = m.preempt ?? cap.preempt;
    preemptions.push({ jobId: m.jobId, by: blocked.jobId, cancelRequests: mode === 'cancel' ? need.requests : 0 });
  }
  return { grants, preemptions };
}
