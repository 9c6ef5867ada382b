/**
 * What the account's poller did, read from its workflow histories (every run) and its jobs' histories: how long its
 * workflow tasks waited to be picked up and how long they ran (a walk is a local activity, so the task that runs it
 * lasts as long as the walk), the gaps between walks, how many runs it took, and, on the jobs' side, how long a job
 * had waited since the poller last told it anything when it polled on its own. `npm run bench:jobs` prints it, so a
 * silent poller is explained by the output, not guessed.
 */
import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;
const E = temporal.api.enums.v1.EventType;
/** The SDK's marker name for a local activity's result (patches have their own). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

function ms(ts: Timestamp): number {
  if (!ts) return 0;
  const s = ts.seconds ?? 0;
  return (typeof s === 'number' ? s : s.toNumber()) * 1000 + (ts.nanos ?? 0) / 1e6;
}

export interface Spread {
  count: number;
  meanMs: number;
  maxMs: number;
}

function spread(values: number[]): Spread {
  if (values.length === 0) return { count: 0, meanMs: 0, maxMs: 0 };
  return { count: values.length, meanMs: values.reduce((a, b) => a + b, 0) / values.length, maxMs: Math.max(...values) };
}

export interface PollerTimeline {
  runs: number;
  events: number;
  registrations: number;
  /** Workflow tasks: schedule → start (waiting for the worker) and start → complete (running, walks included). */
  taskQueued: Spread;
  taskRun: Spread;
  /** Tasks that ran a walk (a local activity marker), start → complete: the walk's own time. */
  walkTasks: Spread;
  /** From one walk's task start to the next's. */
  walkGaps: Spread;
  /** Each walk: when its task started (from the poller's first event), how long the task ran, the reports it sent. */
  walks: { atMs: number; runMs: number; reports: number }[];
}

export function pollerTimeline(histories: History[]): PollerTimeline {
  const queued: number[] = [];
  const run: number[] = [];
  const walkRun: number[] = [];
  const walkStarts: number[] = [];
  let events = 0;
  let registrations = 0;
  const walks: { atMs: number; runMs: number; reports: number }[] = [];
  const t0 = ms(histories[0]?.events?.[0]?.eventTime);
  for (const h of histories) {
    const scheduled = new Map<string, number>();
    let startedAt = 0;
    let markers = 0;
    for (const ev of h.events ?? []) {
      events++;
      const at = ms(ev.eventTime);
      switch (ev.eventType) {
        case E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
          registrations++;
          break;
        case E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
          scheduled.set(String(ev.eventId), at);
          break;
        case E.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
          const s = scheduled.get(String(ev.workflowTaskStartedEventAttributes?.scheduledEventId));
          if (s !== undefined) queued.push(at - s);
          startedAt = at;
          markers = 0;
          break;
        }
        case E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        case E.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        case E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
          run.push(at - startedAt);
          break;
        case E.EVENT_TYPE_MARKER_RECORDED:
          // Local activity markers follow the task that ran them (patch markers are not walks).
          if (ev.markerRecordedEventAttributes?.markerName !== LOCAL_ACTIVITY_MARKER) break;
          if (markers++ === 0) {
            walkRun.push(run.at(-1) ?? 0);
            walkStarts.push(startedAt);
            walks.push({ atMs: startedAt - t0, runMs: run.at(-1) ?? 0, reports: 0 });
          }
          break;
        case E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: {
          const w = walks.at(-1);
          if (w) w.reports++;
          break;
        }
      }
    }
  }
  walkStarts.sort((a, b) => a - b);
  const gaps = walkStarts.slice(1).map((t, i) => t - walkStarts[i]!);
  return {
    runs: histories.length,
    events,
    registrations,
    taskQueued: spread(queued),
    taskRun: spread(run),
    walkTasks: spread(walkRun),
    walkGaps: spread(gaps),
    walks,
  };
}

/** One time a job polled on its own, set against what the poller's history shows for that job. */
export interface OwnPoll {
  jobId: string;
  /** From the common start of the histories (the earliest event of all). */
  atMs: number;
  /** Since the job last heard from the poller (a report reached it), or undefined when it never had. */
  sinceReportMs?: number;
  /** Since the job's last registration before the poll (its watchBatches local activity). */
  sinceRegisteredMs?: number;
  /** Since the poller last received this job's registration, and last sent it a report (from the poller's side). */
  pollerSinceReceivedMs?: number;
  pollerSinceSentMs?: number;
  /** Walks the poller made between the job's last registration it received and the poll. */
  walksSinceReceived: number;
}

interface PollerSide {
  received: Map<string, number[]>;
  sent: Map<string, number[]>;
  walks: number[];
}

function payloadJson(p: { data?: Uint8Array | string | null } | undefined): unknown {
  if (!p?.data) return undefined;
  const text = typeof p.data === 'string' ? Buffer.from(p.data, 'base64').toString('utf8') : Buffer.from(p.data).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // encrypted payloads say nothing
  }
}

function pollerSide(histories: History[]): PollerSide {
  const side: PollerSide = { received: new Map(), sent: new Map(), walks: [] };
  const push = (m: Map<string, number[]>, k: string, t: number) => m.set(k, [...(m.get(k) ?? []), t]);
  for (const h of histories) {
    let markers = 0;
    for (const ev of h.events ?? []) {
      const at = ms(ev.eventTime);
      if (ev.eventType === E.EVENT_TYPE_WORKFLOW_TASK_STARTED) markers = 0;
      if (ev.eventType === E.EVENT_TYPE_MARKER_RECORDED && ev.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER && markers++ === 0) {
        side.walks.push(at);
      }
      const sig = ev.workflowExecutionSignaledEventAttributes;
      if (sig?.signalName === 'watchBatches') {
        const w = payloadJson(sig.input?.payloads?.[0] ?? undefined) as { jobId?: string } | undefined;
        if (w?.jobId) push(side.received, w.jobId, at);
      }
      const out = ev.signalExternalWorkflowExecutionInitiatedEventAttributes;
      if (out?.signalName === 'batchesEnded' && out.workflowExecution?.workflowId) push(side.sent, out.workflowExecution.workflowId, at);
    }
  }
  return side;
}

const lastBefore = (times: number[] | undefined, t: number) => times?.filter((x) => x <= t).at(-1);

/**
 * Every time a job polled on its own (a pollBatches activity scheduled), with how long it had been since the poller
 * last told it anything, since it last registered, and what the poller's history shows for it at that moment.
 */
export function ownPolls(jobHistories: { jobId: string; runs: History[] }[], pollerHistories: History[]): OwnPoll[] {
  const side = pollerSide(pollerHistories);
  const all = [...jobHistories.flatMap((j) => j.runs), ...pollerHistories];
  const t0 = Math.min(...all.map((h) => ms(h.events?.[0]?.eventTime)));
  const out: OwnPoll[] = [];
  for (const { jobId, runs } of jobHistories) {
    let heard: number | undefined;
    let registeredAt: number | undefined;
    for (const h of runs) {
      for (const ev of h.events ?? []) {
        const at = ms(ev.eventTime);
        if (ev.eventType === E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED && ev.workflowExecutionSignaledEventAttributes?.signalName === 'batchesEnded') heard = at;
        if (ev.eventType === E.EVENT_TYPE_MARKER_RECORDED && ev.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) registeredAt = at;
        if (ev.eventType !== E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED || ev.activityTaskScheduledEventAttributes?.activityType?.name !== 'pollBatches') continue;
        const received = lastBefore(side.received.get(jobId), at);
        const sent = lastBefore(side.sent.get(jobId), at);
        out.push({
          jobId,
          atMs: at - t0,
          ...(heard === undefined ? {} : { sinceReportMs: at - heard }),
          ...(registeredAt === undefined ? {} : { sinceRegisteredMs: at - registeredAt }),
          ...(received === undefined ? {} : { pollerSinceReceivedMs: at - received }),
          ...(sent === undefined ? {} : { pollerSinceSentMs: at - sent }),
          walksSinceReceived: received === undefined ? 0 : side.walks.filter((w) => w > received && w <= at).length,
        });
      }
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}
