// The bench's breakdown of a job's wall time (bench/history-breakdown.ts) on a history built here: each moment goes
// to what the job waited on, activities before workflow tasks before timers, and per kind the queue and run times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { historyBreakdown } from '../bench/history-breakdown';

const E = temporal.api.enums.v1.EventType;
let nextId = 1;
const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
/** An event as the server sends it (ids as plain numbers here; the breakdown reads them either way). */
function ev(type: temporal.api.enums.v1.EventType, ms: number, attrs: Record<string, unknown> = {}) {
  return { eventId: nextId++, eventType: type, eventTime: at(ms), ...attrs };
}

test('wall time goes to the activity, task or timer the job waited on', () => {
  const t0 = 1_700_000_000_000;
  const events: ReturnType<typeof ev>[] = [];
  const push = (e: ReturnType<typeof ev>) => (events.push(e), e.eventId);
  const wft = push(ev(E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, t0));
  push(ev(E.EVENT_TYPE_WORKFLOW_TASK_STARTED, t0 + 5, { workflowTaskStartedEventAttributes: { scheduledEventId: wft } }));
  push(ev(E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, t0 + 10, { workflowTaskCompletedEventAttributes: { scheduledEventId: wft } }));
  // Two submits at once: 10 → 110 and 10 → 60, the first waited 2 ms for a worker.
  for (const end of [110, 60]) {
    const s = push(ev(E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, t0 + 10, { activityTaskScheduledEventAttributes: { activityType: { name: 'submitBatch' } } }));
    push(ev(E.EVENT_TYPE_ACTIVITY_TASK_STARTED, t0 + 12, { activityTaskStartedEventAttributes: { scheduledEventId: s } }));
    push(ev(E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, t0 + end, { activityTaskCompletedEventAttributes: { scheduledEventId: s } }));
  }
  // A task while a submit still runs: the moment belongs to the submit.
  const wft2 = push(ev(E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, t0 + 60));
  push(ev(E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, t0 + 70, { workflowTaskCompletedEventAttributes: { scheduledEventId: wft2 } }));
  const timer = push(ev(E.EVENT_TYPE_TIMER_STARTED, t0 + 110));
  push(ev(E.EVENT_TYPE_TIMER_FIRED, t0 + 610, { timerFiredEventAttributes: { startedEventId: timer } }));
  const c = push(ev(E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, t0 + 620, { activityTaskScheduledEventAttributes: { activityType: { name: 'collectBatch' } } }));
  push(ev(E.EVENT_TYPE_ACTIVITY_TASK_STARTED, t0 + 621, { activityTaskStartedEventAttributes: { scheduledEventId: c } }));
  push(ev(E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, t0 + 700, { activityTaskCompletedEventAttributes: { scheduledEventId: c } }));

  const b = historyBreakdown([{ events } as unknown as temporal.api.history.v1.IHistory]);
  const kind = (name: string) => b.kinds.find((k) => k.kind === name)!;
  assert.equal(b.spanMs, 700);
  assert.deepEqual(kind('submit'), { kind: 'submit', count: 2, wallMs: 100, queuedMs: 4, runMs: 146 });
  assert.deepEqual(kind('collect'), { kind: 'collect', count: 1, wallMs: 80, queuedMs: 1, runMs: 79 });
  assert.equal(kind('timer').wallMs, 500);
  assert.equal(kind('workflow task').wallMs, 10);
  assert.equal(kind('workflow task').count, 2);
  assert.equal(kind('gaps').wallMs, 10); // 610 → 620: nothing pending
  assert.equal(b.kinds.reduce((n, k) => n + k.wallMs, 0), b.spanMs);
  assert.deepEqual(b.phases.map((p) => [p.kind, p.toMs - p.fromMs]), [['submit', 100], ['collect', 80]]);
});
