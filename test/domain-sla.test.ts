import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../src/domain/duration';
import { ConfigError } from '../src/domain/errors';
import {
  MARGIN_MS,
  WINDOW_MS,
  batchTrusted,
  latestBatchSubmissionMs,
  slaPlan,
  submissionPeriodMs,
} from '../src/domain/sla';

const HOUR_MS = 3_600_000;

describe('SLA window rule', () => {
  it('a 30 h SLA with W = 24 h and M = 2 h means submitting every 4 h', () => {
    assert.equal(submissionPeriodMs(30 * HOUR_MS), 4 * HOUR_MS);
    assert.equal(submissionPeriodMs(parseDuration('30h'), WINDOW_MS, MARGIN_MS), parseDuration('4h'));
  });

  for (const sla of ['26h', '20h']) {
    it(`a ${sla} SLA is too short for batches, and the error says so`, () => {
      assert.throws(
        () => submissionPeriodMs(parseDuration(sla)),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.field === 'sla' &&
          err.message.includes(`an SLA of ${sla} is too short for batches`) &&
          err.message.includes('26h'),
      );
    });
  }

  const w = { deadlineMs: 100 * HOUR_MS, windowMs: WINDOW_MS, marginMs: MARGIN_MS };
  it('latest batch submission is D − W − M', () => assert.equal(latestBatchSubmissionMs(w), 74 * HOUR_MS));

  const trusted: [tHours: number, ok: boolean][] = [
    [0, true],
    [74, true],
    [74.001, false],
    [90, false],
  ];
  for (const [tHours, ok] of trusted) {
    it(`a batch at ${tHours} h, deadline 100 h: ${ok ? 'trusted' : 'not trusted'}`, () =>
      assert.equal(batchTrusted(tHours * HOUR_MS, w), ok));
  }

  it('slaPlan for `sluice sla 30h`', () => {
    const nowMs = Date.UTC(2026, 8, 1);
    assert.deepEqual(slaPlan({ slaMs: 30 * HOUR_MS, nowMs }), {
      periodMs: 4 * HOUR_MS,
      deadlineMs: nowMs + 30 * HOUR_MS,
      latestSubmissionMs: nowMs + 4 * HOUR_MS,
      windowMs: WINDOW_MS,
      marginMs: MARGIN_MS,
    });
  });

  it('a short test window', () => {
    assert.equal(slaPlan({ slaMs: 60_000, nowMs: 0, windowMs: 30_000, marginMs: 10_000 }).periodMs, 20_000);
  });
});
