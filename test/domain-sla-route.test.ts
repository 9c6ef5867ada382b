import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectedSyncMs, isStraggler, nextSlaEventMs, routeFor, SlaPolicySchema, slaAtRisk } from '../src/domain/sla-route';

const H = 3_600_000;
const policy = (over: object = {}) => SlaPolicySchema.parse({ deadlineMs: 30 * H, ...over });

describe('routeFor', () => {
  test('a batch while t + W + M ≤ D, then sync', () => {
    assert.equal(routeFor(0, 500, policy()), 'batch');
    assert.equal(routeFor(4 * H, 500, policy()), 'batch', 'exactly at the latest submission (30 − 24 − 2)');
    assert.equal(routeFor(4 * H + 1, 500, policy()), 'sync');
  });
  test('without fallback, late work is sla_missed; in batch mode it still goes by batch', () => {
    assert.equal(routeFor(5 * H, 500, policy({ syncFallback: false })), 'sla_missed');
    assert.equal(routeFor(5 * H, 500, policy({ mode: 'batch' })), 'batch');
  });
  test('dual mode: tiny jobs and --mode sync go straight to the synchronous API', () => {
    assert.equal(routeFor(0, 1, policy()), 'sync');
    assert.equal(routeFor(0, 2, policy()), 'batch');
    assert.equal(routeFor(0, 5, policy({ syncThreshold: 10 })), 'sync');
    assert.equal(routeFor(0, 1, policy({ mode: 'batch' })), 'batch');
    assert.equal(routeFor(0, 1_000, policy({ mode: 'sync' })), 'sync');
  });
  test('no deadline: always batch', () => {
    assert.equal(routeFor(1e12, 100, SlaPolicySchema.parse({})), 'batch');
  });
});

describe('stragglers', () => {
  test('a batch of 100 at 8 concurrent calls of 60 s needs 13 min of sync time', () => {
    assert.equal(expectedSyncMs(100, policy()), 13 * 60_000);
    assert.equal(isStraggler(30 * H - 13 * 60_000 - 1, 100, policy()), false);
    assert.equal(isStraggler(30 * H - 13 * 60_000, 100, policy()), true);
  });
  test('never canceled without a synchronous path to finish them', () => {
    assert.equal(isStraggler(30 * H, 100, policy({ syncFallback: false })), false);
    assert.equal(isStraggler(30 * H, 100, policy({ mode: 'batch' })), false);
  });
  test('the next decision is the earliest future cutoff', () => {
    assert.equal(nextSlaEventMs(0, [100], policy()), 4 * H);
    assert.equal(nextSlaEventMs(5 * H, [100], policy()), 30 * H - 13 * 60_000);
    assert.equal(nextSlaEventMs(0, [], SlaPolicySchema.parse({})), undefined);
  });
});

test('the SLA is at risk past the latest batch submission while work is open', () => {
  assert.equal(slaAtRisk(3 * H, 10, policy()), false);
  assert.equal(slaAtRisk(5 * H, 10, policy()), true);
  assert.equal(slaAtRisk(5 * H, 0, policy()), false);
});
