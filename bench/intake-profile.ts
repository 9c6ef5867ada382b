/**
 * Where an intake's enqueue time goes, read from its workflow histories (every run): how many updates each workflow
 * task took, how long tasks waited and ran, each activity kind's queue wait and run time, local activities (markers),
 * history events per update, and each continue-as-new input: its bytes and how many requests were buffered then.
 */
import { temporal } from '@temporalio/proto';
import { EventType, ms, type History } from './history-time';

const E = EventType;

export interface Spread {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

export interface IntakeProfile {
  events: number;
  updates: number;
  /** Workflow tasks that accepted at least one update, and how many each took on average. */
  tasksWithUpdates: number;
  workflowTaskQueued: Spread;
  workflowTaskRun: Spread;
  activities: ({ kind: string } & { queued: Spread; run: Spread })[];
  localActivities: number;
  /** Per continue-as-new: input bytes and the requests buffered (chunk lines not yet cut) in the state it carried. */
  continuedAsNew: { bytes: number; buffered: number }[];
  /** Workflow tasks that failed, by cause, and that timed out: each costs the worker a replay of the run. */
  failedTasks: Record<string, number>;
  timedOutTasks: number;
  /** The longest workflow task from start to completion (a replay of the whole run shows here). */
  longestTaskMs: number;
}


export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return { count: sorted.length, p50Ms: Math.round(at(0.5)), p99Ms: Math.round(at(0.99)) };
}

/** Requests still waiting in a store-backed intake state (the chunk lines not yet cut). */
function bufferedIn(data: Uint8Array | null | undefined): number {
  if (!data) return 0;
  try {
    const input = JSON.parse(new TextDecoder().decode(data)) as { state?: { chunks?: { count: number; taken: number }[] } };
    return (input.state?.chunks ?? []).reduce((n, c) => n + c.count - c.taken, 0);
  } catch {
    return 0;
  }
}

export function intakeProfile(histories: Iterable<History>): IntakeProfile {
  const profiler = intakeProfiler();
  for (const h of histories) profiler.add(h);
  return profiler.result();
}

/**
 * The same profile, read one history at a time (oldest run first): a long intake has many runs, and holding every
 * history at once would cost more memory than the bench it measures.
 */
export function intakeProfiler(): { add(h: History): void; result(): IntakeProfile } {
  const taskQueued: number[] = [];
  const taskRun: number[] = [];
  const byKind = new Map<string, { queued: number[]; run: number[] }>();
  const continuedAsNew: IntakeProfile['continuedAsNew'] = [];
  let events = 0;
  let updates = 0;
  let tasksWithUpdates = 0;
  let localActivities = 0;
  const failedTasks: Record<string, number> = {};
  let timedOutTasks = 0;
  const add = (h: History) => {
    const list = h.events ?? [];
    events += list.length;
    const at = new Map<string, number>();
    const kindOf = new Map<string, string>();
    let lastTaskCompleted = -1;
    let countedTask = -1;
    for (const e of list) {
      const id = String(e.eventId);
      const t = ms(e.eventTime);
      at.set(id, t);
      switch (e.eventType) {
        case E.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
          const scheduled = at.get(String(e.workflowTaskStartedEventAttributes?.scheduledEventId));
          if (scheduled !== undefined) taskQueued.push(t - scheduled);
          break;
        }
        case E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
          const started = at.get(String(e.workflowTaskCompletedEventAttributes?.startedEventId));
          if (started !== undefined) taskRun.push(t - started);
          lastTaskCompleted = Number(e.eventId);
          break;
        }
        case E.EVENT_TYPE_WORKFLOW_TASK_FAILED: {
          const cause = temporal.api.enums.v1.WorkflowTaskFailedCause[e.workflowTaskFailedEventAttributes?.cause ?? 0] ?? '?';
          const name = cause.replace('WORKFLOW_TASK_FAILED_CAUSE_', '');
          failedTasks[name] = (failedTasks[name] ?? 0) + 1;
          break;
        }
        case E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
          timedOutTasks++;
          break;
        case E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
          updates++;
          if (countedTask !== lastTaskCompleted) {
            tasksWithUpdates++;
            countedTask = lastTaskCompleted;
          }
          break;
        case E.EVENT_TYPE_MARKER_RECORDED:
          if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') localActivities++;
          break;
        case E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
          kindOf.set(id, e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
          break;
        case E.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
          const scheduledId = String(e.activityTaskStartedEventAttributes?.scheduledEventId);
          entry(kindOf.get(scheduledId)).queued.push(t - (at.get(scheduledId) ?? t));
          break;
        }
        case E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        case E.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        case E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
          const a = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
          const scheduledId = String(a?.scheduledEventId);
          entry(kindOf.get(scheduledId)).run.push(t - (at.get(String(a?.startedEventId)) ?? t));
          break;
        }
        case E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: {
          const payloads = e.workflowExecutionContinuedAsNewEventAttributes?.input?.payloads ?? [];
          continuedAsNew.push({
            bytes: payloads.reduce((n, p) => n + (p.data?.length ?? 0), 0),
            buffered: bufferedIn(payloads[0]?.data),
          });
          break;
        }
      }
    }
  };
  const result = (): IntakeProfile => ({
    events,
    updates,
    tasksWithUpdates,
    workflowTaskQueued: spread(taskQueued),
    workflowTaskRun: spread(taskRun),
    activities: [...byKind].map(([kind, v]) => ({ kind, queued: spread(v.queued), run: spread(v.run) })),
    localActivities,
    continuedAsNew,
    failedTasks,
    timedOutTasks,
    longestTaskMs: taskRun.reduce((m, x) => Math.max(m, x), 0),
  });
  return { add, result };

  function entry(kind = '?') {
    let v = byKind.get(kind);
    if (!v) byKind.set(kind, (v = { queued: [], run: [] }));
    return v;
  }
}

/** Rows for the bench's table. */
export function profileRows(p: IntakeProfile): string[][] {
  const s = (x: Spread) => `${x.p50Ms} / ${x.p99Ms} ms`;
  const rows: string[][] = [
    ['updates / workflow tasks that took them', `${p.updates} / ${p.tasksWithUpdates} (${(p.updates / Math.max(1, p.tasksWithUpdates)).toFixed(2)} per task), ${(p.events / Math.max(1, p.updates)).toFixed(1)} history events per update`],
    ['workflow task wait / run p50 / p99', `${s(p.workflowTaskQueued)} wait, ${s(p.workflowTaskRun)} run (${p.workflowTaskRun.count} tasks), longest ${Math.round(p.longestTaskMs)} ms`],
    [
      'failed / timed-out workflow tasks',
      `${Object.values(p.failedTasks).reduce((a, n) => a + n, 0)}${Object.keys(p.failedTasks).length ? ` (${Object.entries(p.failedTasks).map(([c, n]) => `${n} ${c}`).join(', ')})` : ''} / ${p.timedOutTasks} (each replays the run)`,
    ],
  ];
  if (p.localActivities) rows.push(['local activities', `${p.localActivities} (run inside the workflow task)`]);
  for (const a of p.activities) rows.push([`activity ${a.kind} wait / run p50 / p99`, `${s(a.queued)} wait, ${s(a.run)} run (${a.run.count})`]);
  return rows;
}
