// bench:sla's lag reading (bench/sla-lag.ts): from a job's history, how late its timers were acted on and how long
// its activities waited for a worker. A history with a timer due at 10 s that the workflow saw at 12.5 s, and an
// activity started 0.75 s after it was scheduled, reads as 2,500 ms and 750 ms; a canceled timer counts nothing; the
// plan ending 1.5 s after the workflow started reads as 1,500 ms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { formatLag, lagOfEvents, p95TimerLagNominalMs, type LagEvent } from '../bench/sla-lag';

const T = temporal.api.enums.v1.EventType;
const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms - Math.floor(ms / 1000) * 1000) * 1e6 });

test('timer lateness runs to the workflow task that saw it; activity wait from scheduled to started', () => {
  const events: LagEvent[] = [
    { eventId: 1, eventType: T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, eventTime: at(-2_000) },
    { eventId: 2, eventType: T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, eventTime: at(-1_900), activityTaskScheduledEventAttributes: { activityType: { name: 'planJob' } } },
    { eventId: 3, eventType: T.EVENT_TYPE_ACTIVITY_TASK_STARTED, eventTime: at(-1_800), activityTaskStartedEventAttributes: { scheduledEventId: 2 } },
    { eventId: 4, eventType: T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, eventTime: at(-500), activityTaskCompletedEventAttributes: { scheduledEventId: 2 } },
    { eventId: 5, eventType: T.EVENT_TYPE_TIMER_STARTED, eventTime: at(0), timerStartedEventAttributes: { timerId: '1', startToFireTimeout: { seconds: 10 } } },
    { eventId: 6, eventType: T.EVENT_TYPE_TIMER_STARTED, eventTime: at(0), timerStartedEventAttributes: { timerId: '2', startToFireTimeout: { seconds: 30 } } },
    { eventId: 7, eventType: T.EVENT_TYPE_TIMER_FIRED, eventTime: at(10_100), timerFiredEventAttributes: { timerId: '1' } },
    { eventId: 8, eventType: T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, eventTime: at(10_100) },
    { eventId: 9, eventType: T.EVENT_TYPE_WORKFLOW_TASK_STARTED, eventTime: at(12_500) },
    { eventId: 10, eventType: T.EVENT_TYPE_TIMER_CANCELED, eventTime: at(12_600), timerFiredEventAttributes: null },
    { eventId: 11, eventType: T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, eventTime: at(12_600) },
    { eventId: 12, eventType: T.EVENT_TYPE_ACTIVITY_TASK_STARTED, eventTime: at(13_350), activityTaskStartedEventAttributes: { scheduledEventId: 11 } },
  ];
  const lag = lagOfEvents(events);
  assert.deepEqual(lag, { timerMs: [2_500], activityWaitMs: [100, 750], planMs: [1_500] });
  // At time ×0.001, 2.5 s real are 41.7 simulated minutes.
  assert.equal(Math.round(p95TimerLagNominalMs(lag, 0.001) / 60_000), 42);
  assert.match(formatLag(lag, 0.001).join('\n'), /timers fired late \(1\): p50 2500 ms \(42 min\)/);
});
