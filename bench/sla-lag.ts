/**
 * How late a compressed-time run acted, from the jobs' own histories: a timer's lateness is from when it was due
 * (started + its timeout) to the workflow task that acted on it; an activity's wait is from its scheduling to a
 * worker starting it. At a time scale of 0.001 a second of either is 17 minutes of simulated time, which a 2 h
 * submission window or a 1 h straggler lead cannot absorb: the bench prints it next to its table.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

export interface LagSamples {
  /** Real ms from each fired timer's due time to the workflow task that saw it. */
  timerMs: number[];
  /** Real ms from each activity's scheduling to its start. */
  activityWaitMs: number[];
  /** Real ms from the workflow's start to its plan's end: the routes are chosen then, against the latest batch time. */
  planMs: number[];
}

type Long = number | { toNumber(): number } | null | undefined;
interface Stamp {
  seconds?: Long;
  nanos?: number | null;
}
/** The fields of a history event this reads (a structural subset of the proto's IHistoryEvent). */
export interface LagEvent {
  eventId?: Long;
  eventType?: number | null;
  eventTime?: Stamp | null;
  timerStartedEventAttributes?: { timerId?: string | null; startToFireTimeout?: Stamp | null } | null;
  timerFiredEventAttributes?: { timerId?: string | null } | null;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskStartedEventAttributes?: { scheduledEventId?: Long } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: Long } | null;
}

function msOf(t: Stamp | null | undefined): number {
  if (!t) return 0;
  const s = t.seconds;
  const seconds = s === null || s === undefined ? 0 : typeof s === 'number' ? s : s.toNumber();
  return seconds * 1000 + (t.nanos ?? 0) / 1e6;
}

function idOf(id: Long): number {
  return id === null || id === undefined ? 0 : typeof id === 'number' ? id : id.toNumber();
}

/** The lag samples of one run's events (pure). */
export function lagOfEvents(events: readonly LagEvent[]): LagSamples {
  const timerDue = new Map<string, number>();
  const scheduledAt = new Map<number, number>();
  const timerMs: number[] = [];
  const activityWaitMs: number[] = [];
  const planMs: number[] = [];
  const activityType = new Map<number, string>();
  let startedAt: number | undefined;
  let firedDue: number[] = [];
  for (const e of events) {
    const at = msOf(e.eventTime);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const a = e.timerStartedEventAttributes;
        if (a?.timerId) timerDue.set(a.timerId, at + msOf(a.startToFireTimeout));
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED: {
        const due = timerDue.get(e.timerFiredEventAttributes?.timerId ?? '');
        if (due !== undefined) firedDue.push(due);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        for (const due of firedDue) timerMs.push(Math.max(0, at - due));
        firedDue = [];
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        startedAt = at;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduledAt.set(idOf(e.eventId), at);
        activityType.set(idOf(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const type = activityType.get(idOf(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        if (type === 'planJob' && startedAt !== undefined) planMs.push(at - startedAt);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const scheduled = scheduledAt.get(idOf(e.activityTaskStartedEventAttributes?.scheduledEventId));
        if (scheduled !== undefined) activityWaitMs.push(Math.max(0, at - scheduled));
        break;
      }
    }
  }
  return { timerMs, activityWaitMs, planMs };
}

/** The lag samples of a job's latest run. */
export async function lagOfJob(client: Client, workflowId: string): Promise<LagSamples> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return lagOfEvents(history.events ?? []);
}

export function mergeLag(all: readonly LagSamples[]): LagSamples {
  return {
    timerMs: all.flatMap((l) => l.timerMs),
    activityWaitMs: all.flatMap((l) => l.activityWaitMs),
    planMs: all.flatMap((l) => l.planMs),
  };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** One line per kind: p50, p95 and max, in real ms and in simulated minutes at `scale`. */
export function formatLag(lag: LagSamples, scale: number): string[] {
  const line = (what: string, samples: number[]) => {
    const s = [...samples].sort((a, b) => a - b);
    const cell = (ms: number) => `${Math.round(ms)} ms (${(ms / scale / 60_000).toFixed(0)} min)`;
    return `  ${what} (${s.length}): p50 ${cell(quantile(s, 0.5))}, p95 ${cell(quantile(s, 0.95))}, max ${cell(s.at(-1) ?? 0)}`;
  };
  return [
    'Lag suffered, real (simulated):',
    line('timers fired late', lag.timerMs),
    line('activities waited for a worker (retries included)', lag.activityWaitMs),
    line('job start to plan done', lag.planMs),
  ];
}

/** The p95 timer lateness in simulated ms: what the bench compares with the margins it plans with. */
export function p95TimerLagNominalMs(lag: LagSamples, scale: number): number {
  return quantile([...lag.timerMs].sort((a, b) => a - b), 0.95) / scale;
}
