// The gauges of src/metrics.ts without a server: values reported per owner (a job) add up per label set, a job
// that ends drops out at once, and an owner that stops reporting (its polls moved to another worker) drops out
// after GAUGE_TTL_MS. Each SluiceMetrics records into its own meter: two workers in a process share nothing.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { GAUGE_TTL_MS, SLUICE_METRICS, SluiceMetrics } from '../src/metrics';
import { metricRegistry } from './helpers/metric-registry';

test('owned gauges add up per label set and forget owners that ended or went quiet', () => {
  mock.timers.enable({ apis: ['Date', 'setInterval'], now: 1_000_000 });
  const metrics = new SluiceMetrics();
  try {
    const { meter, value } = metricRegistry();
    const q1 = { namespace: 'default', task_queue: 'sluice' };
    const q2 = { namespace: 'default', task_queue: 'urgent' };
    metrics.enable(meter, q1);
    const atRisk = SLUICE_METRICS.slaAtRiskJobs.name;
    const inFlight = SLUICE_METRICS.batchesInFlight.name;
    assert.equal(value(atRisk, q1), 0, 'a zero from the start');
    assert.equal(value(inFlight, q1), 0);
    assert.equal(value(SLUICE_METRICS.requests.name, { ...q1, outcome: 'succeeded' }), 0);

    metrics.polled({ calls: 1, inFlight: 3, slaAtRisk: true }, 'job-a', q1);
    metrics.polled({ calls: 2, inFlight: 2, slaAtRisk: true }, 'job-b', q1);
    metrics.polled({ calls: 1, inFlight: 1, slaAtRisk: true }, 'job-c', q2);
    metrics.polled({ calls: 1, inFlight: 4 }, 'job-d', q1); // no deadline: counts in flight, not at risk
    assert.equal(value(atRisk, q1), 2);
    assert.equal(value(atRisk, q2), 1);
    assert.equal(value(inFlight, q1), 9);
    assert.equal(value(SLUICE_METRICS.pollCalls.name, q1), 4);
    metrics.polled({ calls: 1, inFlight: 3, slaAtRisk: false }, 'job-a', q1);
    assert.equal(value(atRisk, q1), 1);

    metrics.jobEnded('job-d', q1);
    assert.equal(value(inFlight, q1), 5, 'an ended job leaves the gauge at once');

    // job-b's reports move to another worker: here it counts until the TTL passes, then the timer drops it.
    mock.timers.tick(GAUGE_TTL_MS - 60_000);
    metrics.polled({ calls: 1, inFlight: 1, slaAtRisk: true }, 'job-c', q2);
    assert.equal(value(atRisk, q1), 1);
    mock.timers.tick(120_000);
    assert.equal(value(atRisk, q1), 0, 'job-b expired');
    assert.equal(value(atRisk, q2), 1, 'job-c reported recently');

    const other = metricRegistry();
    const second = new SluiceMetrics();
    second.enable(other.meter, q1);
    second.polled({ calls: 1, inFlight: 7, slaAtRisk: true }, 'job-x', q1);
    second.close();
    assert.equal(other.value(inFlight, q1), 7);
    assert.equal(value(inFlight, q1), 0, 'the first registry saw nothing of the second');
  } finally {
    metrics.close();
    mock.timers.reset();
  }
});
