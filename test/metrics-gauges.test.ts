// The gauges of src/metrics.ts without a server: values reported per owner (a job, the scheduler) add up per
// label set, and an owner that stops reporting (its polls moved to another worker) drops out after GAUGE_TTL_MS.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import type { MetricCounter, MetricGauge, MetricHistogram, MetricMeter, MetricTags } from '@temporalio/common';
import { enableSluiceMetrics, GAUGE_TTL_MS, recordQueueRoom, recordSlaAtRisk, SLUICE_METRICS } from '../src/metrics';

/** A meter that remembers the last value of each series. */
function recordingMeter() {
  const last = new Map<string, number>();
  const key = (name: string, tags: MetricTags = {}) =>
    `${name}${JSON.stringify(Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)))}`;
  const meter: MetricMeter = {
    createCounter: (name) =>
      ({ name, kind: 'counter', valueType: 'int', add: (v: number, t?: MetricTags) => last.set(key(name, t), (last.get(key(name, t)) ?? 0) + v) }) as unknown as MetricCounter,
    createGauge: (name) =>
      ({ name, kind: 'gauge', valueType: 'int', set: (v: number, t?: MetricTags) => last.set(key(name, t), v) }) as unknown as MetricGauge,
    createHistogram: (name) => ({ name, kind: 'histogram', valueType: 'float', record: () => {} }) as unknown as MetricHistogram,
    withTags: () => meter,
  };
  return { meter, value: (name: string, tags?: MetricTags) => last.get(key(name, tags)) };
}

test('owned gauges add up per label set and forget owners that went quiet', () => {
  mock.timers.enable({ apis: ['Date', 'setInterval'], now: 1_000_000 });
  try {
    const { meter, value } = recordingMeter();
    const q1 = { namespace: 'default', task_queue: 'sluice' };
    const q2 = { namespace: 'default', task_queue: 'urgent' };
    enableSluiceMetrics(meter, q1);
    assert.equal(value(SLUICE_METRICS.slaAtRiskJobs.name, q1), 0, 'a zero from the start');
    assert.equal(value(SLUICE_METRICS.requests.name, { ...q1, outcome: 'succeeded' }), 0);

    recordSlaAtRisk('job-a', true, q1);
    recordSlaAtRisk('job-b', true, q1);
    recordSlaAtRisk('job-c', true, q2);
    assert.equal(value(SLUICE_METRICS.slaAtRiskJobs.name, q1), 2);
    assert.equal(value(SLUICE_METRICS.slaAtRiskJobs.name, q2), 1);
    recordSlaAtRisk('job-a', false, q1);
    assert.equal(value(SLUICE_METRICS.slaAtRiskJobs.name, q1), 1);

    // job-b's reports move to another worker: here it counts until the TTL passes, then the timer drops it.
    mock.timers.tick(GAUGE_TTL_MS - 60_000);
    recordSlaAtRisk('job-c', true, q2);
    assert.equal(value(SLUICE_METRICS.slaAtRiskJobs.name, q1), 1);
    mock.timers.tick(120_000);
    assert.equal(value(SLUICE_METRICS.slaAtRiskJobs.name, q1), 0, 'job-b expired');
    assert.equal(value(SLUICE_METRICS.slaAtRiskJobs.name, q2), 1, 'job-c reported recently');

    recordQueueRoom('scheduler', { heldRequests: 5_000, waitingRequests: 1_200, oldestWaitSecondsByPriority: { 0: 42.4, 5: 900 } }, q1);
    assert.equal(value(SLUICE_METRICS.queueRoomHeld.name, q1), 5_000);
    assert.equal(value(SLUICE_METRICS.queueRoomWaiting.name, q1), 1_200);
    assert.equal(value(SLUICE_METRICS.queueOldestWait.name, { ...q1, priority: '0' }), 42);
    assert.equal(value(SLUICE_METRICS.queueOldestWait.name, { ...q1, priority: '5' }), 900);
  } finally {
    mock.timers.reset();
  }
});
