/**
 * Where a job's wall time goes, read from its workflow histories (every run): each moment of the job is given to
 * what it waited on — an activity of some kind (plan, submit, poll, collect, finalize, ...), a workflow task, a
 * durable timer, or nothing the history shows — and per activity kind the bench prints how long its tasks waited
 * to be picked up (schedule → start: worker slots, task round trips) and how long they ran (start → close).
 */
import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;
const E = temporal.api.enums.v1.EventType;

export interface KindTiming {
  kind: string;
  count: number;
  /** Wall time during which this kind was what the job waited on (the sweep below). */
  wallMs: number;
  /** Sum over tasks of schedule → start and start → close. */
  queuedMs: number;
  runMs: number;
}

export interface HistoryBreakdown {
  /** First event of the first run to the last event of the last run. */
  spanMs: number;
  kinds: KindTiming[];
  workflowTasks: { count: number; queuedMs: number; runMs: number };
  timers: { count: number; firedMs: number };
  firstEventMs: number;
  lastEventMs: number;
  /** Per activity kind that ran: from its first schedule to its last close (epoch ms). */
  phases: { kind: string; fromMs: number; toMs: number }[];
}

/** Activity type → the phase name the bench prints. */
const PHASE_OF: Record<string, string> = {
  planJob: 'plan',
  submitBatch: 'submit',
  pollBatches: 'poll',
  collectBatch: 'collect',
  collectBatches: 'collect',
  finalizeJob: 'finalize',
  requestRoom: 'scheduler',
  packRetries: 'retries',
  cancelBatches: 'cancel',
  runSync: 'sync',
};

/** What a moment is given to when several things are pending: any activity first, then a task, then a timer. */
const PRIORITY = ['plan', 'submit', 'collect', 'poll', 'finalize', 'scheduler', 'retries', 'cancel', 'sync', 'workflow task', 'timer'];

function ms(ts: Timestamp): number {
  if (!ts) return 0;
  const s = ts.seconds ?? 0;
  return (typeof s === 'number' ? s : s.toNumber()) * 1000 + (ts.nanos ?? 0) / 1e6;
}

const idOf = (v: unknown): string => String(v);

export function historyBreakdown(histories: History[]): HistoryBreakdown {
  const intervals: { start: number; end: number; label: string }[] = [];
  const kinds = new Map<string, KindTiming>();
  const workflowTasks = { count: 0, queuedMs: 0, runMs: 0 };
  const timers = { count: 0, firedMs: 0 };
  const phases = new Map<string, { kind: string; fromMs: number; toMs: number }>();
  let first = Infinity;
  let last = -Infinity;

  for (const history of histories) {
    const scheduled = new Map<string, { at: number; kind: string }>();
    const started = new Map<string, number>();
    const wftScheduled = new Map<string, number>();
    const wftStarted = new Map<string, number>();
    const timerStarted = new Map<string, number>();
    for (const ev of history.events ?? []) {
      const at = ms(ev.eventTime);
      const id = idOf(ev.eventId);
      first = Math.min(first, at);
      last = Math.max(last, at);
      switch (ev.eventType) {
        case E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
          const name = ev.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
          scheduled.set(id, { at, kind: PHASE_OF[name] ?? name });
          break;
        }
        case E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
          started.set(idOf(ev.activityTaskStartedEventAttributes?.scheduledEventId), at);
          break;
        case E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        case E.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        case E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        case E.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
          const attrs =
            ev.activityTaskCompletedEventAttributes ??
            ev.activityTaskFailedEventAttributes ??
            ev.activityTaskTimedOutEventAttributes ??
            ev.activityTaskCanceledEventAttributes;
          const sid = idOf(attrs?.scheduledEventId);
          const s = scheduled.get(sid);
          if (!s) break;
          const st = started.get(sid) ?? at;
          const k = kinds.get(s.kind) ?? { kind: s.kind, count: 0, wallMs: 0, queuedMs: 0, runMs: 0 };
          k.count++;
          k.queuedMs += st - s.at;
          k.runMs += at - st;
          kinds.set(s.kind, k);
          intervals.push({ start: s.at, end: at, label: s.kind });
          const phase = phases.get(s.kind) ?? { kind: s.kind, fromMs: s.at, toMs: at };
          phase.fromMs = Math.min(phase.fromMs, s.at);
          phase.toMs = Math.max(phase.toMs, at);
          phases.set(s.kind, phase);
          break;
        }
        case E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
          wftScheduled.set(id, at);
          break;
        case E.EVENT_TYPE_WORKFLOW_TASK_STARTED:
          wftStarted.set(idOf(ev.workflowTaskStartedEventAttributes?.scheduledEventId), at);
          break;
        case E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        case E.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        case E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: {
          const attrs =
            ev.workflowTaskCompletedEventAttributes ?? ev.workflowTaskFailedEventAttributes ?? ev.workflowTaskTimedOutEventAttributes;
          const sid = idOf(attrs?.scheduledEventId);
          const s = wftScheduled.get(sid);
          if (s === undefined) break;
          const st = wftStarted.get(sid) ?? at;
          workflowTasks.count++;
          workflowTasks.queuedMs += st - s;
          workflowTasks.runMs += at - st;
          intervals.push({ start: s, end: at, label: 'workflow task' });
          break;
        }
        case E.EVENT_TYPE_TIMER_STARTED:
          timerStarted.set(id, at);
          break;
        case E.EVENT_TYPE_TIMER_FIRED:
        case E.EVENT_TYPE_TIMER_CANCELED: {
          const sid = idOf((ev.timerFiredEventAttributes ?? ev.timerCanceledEventAttributes)?.startedEventId);
          const s = timerStarted.get(sid);
          if (s === undefined) break;
          timers.count++;
          timers.firedMs += at - s;
          intervals.push({ start: s, end: at, label: 'timer' });
          break;
        }
      }
    }
  }

  // Sweep: between two consecutive boundaries, the moment belongs to the most important pending label.
  const points: { at: number; label: string; delta: 1 | -1 }[] = [];
  for (const i of intervals) {
    points.push({ at: i.start, label: i.label, delta: 1 }, { at: i.end, label: i.label, delta: -1 });
  }
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  const open = new Map<string, number>();
  const wall = new Map<string, number>();
  let prev = first;
  for (const p of points) {
    if (p.at > prev) {
      const owner = PRIORITY.find((l) => (open.get(l) ?? 0) > 0) ?? [...open.entries()].find(([, n]) => n > 0)?.[0] ?? 'gaps';
      wall.set(owner, (wall.get(owner) ?? 0) + (p.at - prev));
      prev = p.at;
    }
    open.set(p.label, (open.get(p.label) ?? 0) + p.delta);
  }
  if (last > prev) wall.set('gaps', (wall.get('gaps') ?? 0) + (last - prev));
  for (const k of kinds.values()) k.wallMs = wall.get(k.kind) ?? 0;
  const rest: KindTiming[] = [
    { kind: 'workflow task', count: workflowTasks.count, wallMs: wall.get('workflow task') ?? 0, queuedMs: workflowTasks.queuedMs, runMs: workflowTasks.runMs },
    { kind: 'timer', count: timers.count, wallMs: wall.get('timer') ?? 0, queuedMs: 0, runMs: timers.firedMs },
    { kind: 'gaps', count: 0, wallMs: wall.get('gaps') ?? 0, queuedMs: 0, runMs: 0 },
  ];

  return {
    spanMs: last - first,
    kinds: [...[...kinds.values()].sort((a, b) => PRIORITY.indexOf(a.kind) - PRIORITY.indexOf(b.kind)), ...rest],
    workflowTasks,
    timers,
    firstEventMs: first,
    lastEventMs: last,
    phases: [...phases.values()].filter((p) => ['plan', 'submit', 'collect', 'finalize'].includes(p.kind)),
  };
}
