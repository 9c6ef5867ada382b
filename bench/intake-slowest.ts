/**
 * The slowest enqueue calls of `npm run bench:intake`, each with where its time went and what it coincided with, read
 * from the intake's histories (every run): when its update was accepted and completed, the intake's creation, a
 * continue-as-new (from the run's end to the next run's first task), the activities that ran meanwhile (a recording,
 * a burst of cuts, a merge, a sweep), the longest workflow task wait and run in it (a stalled worker: a GC pause, a
 * starved CPU) and the bench process's own event-loop stalls.
 */
import { EventType, ms, type History } from './history-time';

const E = EventType;

export interface Call {
  /** The first custom_id of the call: it names the update in the history. */
  firstId: string;
  sentMs: number;
  answeredMs: number;
  /** The call that created the intake (update-with-start). */
  creates?: boolean;
}

/** A stall of the bench process's event loop: from when a timer was due to when it ran. */
export interface Stall {
  fromMs: number;
  toMs: number;
}

interface Span {
  fromMs: number;
  toMs: number;
}

interface Timeline {
  /** Per update, by its call's first custom_id: accepted and completed times, in the order accepted. */
  updates: Map<string, { acceptedMs: number; completedMs?: number; run: number }[]>;
  /** From the first run's start to its first completed task: the intake's creation, as a worker first runs it. */
  creation?: Span;
  /** From the end of run i (its continue-as-new) to the first completed task of run i + 1. */
  handovers: (Span & { run: number })[];
  activities: (Span & { kind: string })[];
  taskWaits: Span[];
  taskRuns: Span[];
}


function firstIdOf(data: Uint8Array | null | undefined): string | undefined {
  if (!data) return undefined;
  try {
    return (JSON.parse(new TextDecoder().decode(data)) as { items?: { custom_id?: string }[] }).items?.[0]?.custom_id;
  } catch {
    return undefined;
  }
}

/** Histories in the order the runs ran. */
export function timeline(histories: History[]): Timeline {
  const t: Timeline = { updates: new Map(), handovers: [], activities: [], taskWaits: [], taskRuns: [] };
  /** By the accepted event's id, which the completed event names. */
  const byAccepted = new Map<string, { acceptedMs: number; completedMs?: number; run: number }>();
  let endedAt: number | undefined;
  histories.forEach((h, run) => {
    const at = new Map<string, number>();
    const kindOf = new Map<string, string>();
    let firstTaskDone = false;
    for (const e of h.events ?? []) {
      const now = ms(e.eventTime);
      at.set(String(e.eventId), now);
      switch (e.eventType) {
        case E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
          if (run === 0) t.creation = { fromMs: now, toMs: now };
          break;
        case E.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
          const scheduled = at.get(String(e.workflowTaskStartedEventAttributes?.scheduledEventId));
          if (scheduled !== undefined) t.taskWaits.push({ fromMs: scheduled, toMs: now });
          break;
        }
        case E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
          const started = at.get(String(e.workflowTaskCompletedEventAttributes?.startedEventId));
          if (started !== undefined) t.taskRuns.push({ fromMs: started, toMs: now });
          if (!firstTaskDone && endedAt !== undefined) t.handovers.push({ fromMs: endedAt, toMs: now, run: run - 1 });
          if (!firstTaskDone && run === 0 && t.creation) t.creation.toMs = now;
          firstTaskDone = true;
          break;
        }
        case E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
          const a = e.workflowExecutionUpdateAcceptedEventAttributes;
          const id = firstIdOf(a?.acceptedRequest?.input?.args?.payloads?.[0]?.data);
          const entry = { acceptedMs: now, run };
          byAccepted.set(`${run}:${String(e.eventId)}`, entry);
          if (id) t.updates.set(id, [...(t.updates.get(id) ?? []), entry]);
          break;
        }
        case E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
          const entry = byAccepted.get(`${run}:${String(e.workflowExecutionUpdateCompletedEventAttributes?.acceptedEventId)}`);
          if (entry) entry.completedMs = now;
          break;
        }
        case E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
          kindOf.set(String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
          break;
        case E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        case E.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        case E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
          const a = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
          const scheduledId = String(a?.scheduledEventId);
          t.activities.push({ kind: kindOf.get(scheduledId) ?? '?', fromMs: at.get(scheduledId) ?? now, toMs: now });
          break;
        }
        case E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
          endedAt = now;
          break;
      }
    }
  });
  return t;
}

const overlaps = (a: Span, b: Span) => a.fromMs < b.toMs && b.fromMs < a.toMs;
const longest = (spans: Span[], within: Span) => spans.filter((s) => overlaps(s, within)).reduce((m, s) => Math.max(m, s.toMs - s.fromMs), 0);

/** Rows for the `count` slowest calls: latency, when, where the time went, what it coincided with. */
export function slowestRows(calls: Call[], histories: History[], stalls: Stall[], startedMs: number, count = 5): string[][] {
  const t = timeline(histories);
  // Calls with the same first custom_id (a retried bunch) take their updates in the order they were sent.
  const taken = new Map<string, number>();
  const located = [...calls]
    .sort((a, b) => a.sentMs - b.sentMs)
    .map((c) => {
      const n = taken.get(c.firstId) ?? 0;
      taken.set(c.firstId, n + 1);
      return { ...c, update: t.updates.get(c.firstId)?.[n] };
    });
  const slowest = located.sort((a, b) => b.answeredMs - b.sentMs - (a.answeredMs - a.sentMs)).slice(0, count);
  return slowest.map((c) => {
    const span = { fromMs: c.sentMs, toMs: c.answeredMs };
    const u = c.update;
    const where = u
      ? `${Math.round(u.acceptedMs - c.sentMs)} to accept (run ${u.run + 1}), ${u.completedMs ? Math.round(u.completedMs - u.acceptedMs) : '?'} to admit, ${u.completedMs ? Math.round(c.answeredMs - u.completedMs) : '?'} to answer`
      : 'update not found in the history';
    const with_: string[] = [];
    if (c.creates) with_.push('creates the intake');
    if (t.creation && overlaps(t.creation, span)) with_.push(`the intake's first task (${Math.round(t.creation.toMs - t.creation.fromMs)} ms after its start)`);
    for (const h of t.handovers) {
      if (overlaps(h, span)) with_.push(`continue-as-new ${h.run + 1}->${h.run + 2} (next run's first task ${Math.round(h.toMs - h.fromMs)} ms after)`);
    }
    const kinds = new Map<string, number>();
    for (const a of t.activities) if (overlaps(a, span)) kinds.set(a.kind, (kinds.get(a.kind) ?? 0) + 1);
    const named: [string, string][] = [
      ['recordIntakeChunks', 'recording'],
      ['cutIntakeChunks', 'cuts'],
      ['compactIntakeChunks', 'merge'],
      ['sweepIntake', 'sweep'],
      ['retireIntakeChunks', 'retire list'],
      ['checkIntakeJobs', 'ended jobs counted'],
    ];
    for (const [kind, what] of named) if (kinds.get(kind)) with_.push(`${kinds.get(kind)} ${what}`);
    const wait = longest(t.taskWaits, span);
    const run = longest(t.taskRuns, span);
    with_.push(`task wait max ${Math.round(wait)} ms, run max ${Math.round(run)} ms`);
    const stall = longest(stalls, span);
    if (stall >= 50) with_.push(`bench stalled ${Math.round(stall)} ms`);
    return [`${Math.round(c.answeredMs - c.sentMs)} ms`, `at ${((c.sentMs - startedMs) / 1000).toFixed(1)} s`, where, with_.join('; ')];
  });
}
