// The learned batch window: quantile with a floor, minimum samples, staleness, censoring, and the 24 h fallback.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BatchTiming } from '../src/domain/job';
import { fitLatencyModel, kaplanMeierQuantile, quantileName } from '../src/domain/latency-model';
import { isStraggler, nextSlaEventMs, SlaPolicySchema, withLearnedWindow } from '../src/domain/sla-route';
import { WINDOW_MS } from '../src/domain/sla';

const MIN = 60_000;
const H = 3_600_000;
const NOW = Date.parse('2026-12-01T12:00:00Z');

/** `n` batches that took 1..n minutes (one each), seen `agoMs` before NOW. */
function timings(n: number, o: { agoMs?: number; minutesOf?: (i: number) => number } = {}): BatchTiming[] {
  return Array.from({ length: n }, (_, i) => {
    const endedAtMs = NOW - (o.agoMs ?? H) - i * 1_000;
    const tookMs = (o.minutesOf ?? ((k) => k + 1))(i) * MIN;
    return {
      batchId: `msgbatch_${i}`,
      createdAtMs: endedAtMs - tookMs,
      endedAtMs,
      seenAtMs: endedAtMs + 500,
      requests: 100,
      counts: { succeeded: 100, errored: 0, canceled: 0, expired: 0 },
    };
  });
}

const fit = (t: BatchTiming[], options = {}, extra = {}) =>
  fitLatencyModel({ timings: t, nowMs: NOW, fixedWindowMs: WINDOW_MS, options: { floorMs: 0, ...options }, ...extra });

describe('fitLatencyModel', () => {
  test('the chosen quantile of create-to-end times is the window', () => {
    const m = fit(timings(200), { quantile: 0.99 });
    assert.equal(m.source, 'learned');
    assert.equal(m.samples, 200);
    assert.equal(m.windowMs, 198 * MIN, 'the 198th of 200 sorted times is p99');
    assert.deepEqual(
      m.quantiles.map((x) => [quantileName(x.q), x.ms]),
      [['p50', 100 * MIN], ['p90', 180 * MIN], ['p99', 198 * MIN], ['p99.5', 199 * MIN]],
    );
    assert.equal(m.ageMs, H - 500);
  });

  test('the floor: a very fast history still plans with at least floorMs', () => {
    const m = fit(timings(200, { minutesOf: () => 2 }), { floorMs: H });
    assert.equal(m.source, 'learned');
    assert.equal(m.windowMs, H);
  });

  test('never above the fixed window, and says so', () => {
    const m = fit(timings(200, { minutesOf: () => 30 * 60 }));
    assert.equal(m.windowMs, WINDOW_MS);
    assert.match(m.reason ?? '', /p99 reaches the fixed window/);
  });

  test('thin data: fewer records than minSamples fall back to 24 h', () => {
    const m = fit(timings(99), { minSamples: 100 });
    assert.equal(m.source, 'fallback');
    assert.equal(m.windowMs, WINDOW_MS);
    assert.match(m.reason ?? '', /thin data: 99 ended batches on record, fewer than 100/);
    const none = fit([]);
    assert.equal(none.windowMs, WINDOW_MS);
    assert.equal(none.ageMs, undefined);
  });

  test('stale data: records older than maxAgeMs do not count, and too few recent ones fall back to 24 h', () => {
    const old = timings(300, { agoMs: 8 * 24 * H });
    const m = fit(old, { maxAgeMs: 7 * 24 * H });
    assert.equal(m.source, 'fallback');
    assert.equal(m.windowMs, WINDOW_MS);
    assert.match(m.reason ?? '', /stale data: 0 of 300 records are recent enough/);
    assert.equal(m.ageMs, 8 * 24 * H - 500);
    // Fresh records next to the stale ones are enough on their own, and only they shape the window.
    const fresh = timings(150, { minutesOf: () => 5 }).map((t) => ({ ...t, batchId: `${t.batchId}-fresh` }));
    const both = fit([...old, ...fresh], { maxAgeMs: 7 * 24 * H });
    assert.equal(both.source, 'learned');
    assert.equal(both.samples, 150);
    assert.equal(both.windowMs, 5 * MIN);
  });

  test('only the newest maxSamples records count', () => {
    const slowOld = timings(100, { agoMs: 2 * H, minutesOf: () => 600 });
    const fastNew = timings(100, { agoMs: H / 2, minutesOf: () => 10 }).map((t) => ({ ...t, batchId: `${t.batchId}-new` }));
    const m = fit([...slowOld, ...fastNew], { maxSamples: 100 });
    assert.equal(m.samples, 100);
    assert.equal(m.windowMs, 10 * MIN);
  });

  test('API-clock latencies are converted to the job clock by apiTimeScale', () => {
    const m = fit(timings(200), { quantile: 0.5 }, { apiTimeScale: 0.001 });
    assert.equal(m.windowMs, Math.ceil(100 * MIN * 0.001));
  });

  test('canceled batches count as at least as long as their cancel: they lengthen the tail instead of vanishing', () => {
    // 100 batches ended at 1..100 min; 100 more were canceled at 50 min. Dropped, p99 would be 99 min; kept as
    // censored, the estimate past 50 min rests on fewer batches and p90 moves up.
    const ended = timings(100);
    const canceled = timings(100, { minutesOf: () => 50 }).map((t) => ({
      ...t,
      batchId: `${t.batchId}-c`,
      cancelInitiatedAtMs: t.endedAtMs,
    }));
    const m = fit([...ended, ...canceled], { quantile: 0.99 });
    assert.equal(m.censored, 100);
    const dropped = fit(ended, { quantile: 0.9 });
    assert.equal(dropped.windowMs, 90 * MIN);
    const kept = fit([...ended, ...canceled], { quantile: 0.9 });
    assert.ok(kept.windowMs > 90 * MIN, `censored p90 ${kept.windowMs / MIN} min exceeds the naive 90 min`);
  });

  test('a tail made only of canceled batches cannot bound the quantile: fall back to 24 h', () => {
    const ended = timings(100, { minutesOf: () => 5 });
    const canceled = timings(50, { minutesOf: () => 60 }).map((t) => ({ ...t, batchId: `${t.batchId}-c`, cancelInitiatedAtMs: t.endedAtMs }));
    const m = fit([...ended, ...canceled], { quantile: 0.99 });
    assert.equal(m.source, 'fallback');
    assert.equal(m.windowMs, WINDOW_MS);
    assert.match(m.reason ?? '', /canceled before they ended to bound p99/);
  });
});

describe('kaplanMeierQuantile', () => {
  test('without censoring it is the empirical quantile; nothing to estimate from gives null', () => {
    const s = [5, 1, 4, 2, 3].map((ms) => ({ ms, ended: true }));
    assert.equal(kaplanMeierQuantile(s, 0.2), 1);
    assert.equal(kaplanMeierQuantile(s, 0.5), 3);
    assert.equal(kaplanMeierQuantile(s, 1), 5);
    assert.equal(kaplanMeierQuantile([], 0.5), null);
  });
});

describe('the SLA rule with a learned window', () => {
  const p = SlaPolicySchema.parse({ deadlineMs: 8 * H, window: 'learned', syncConcurrency: 10, maxSyncShardsInFlight: 2 });

  test('the learned window replaces W only for jobs that ask for it', () => {
    assert.equal(withLearnedWindow(p, 2 * H).windowMs, 2 * H);
    assert.equal(withLearnedWindow(p, undefined).windowMs, WINDOW_MS);
    const fixed = SlaPolicySchema.parse({ deadlineMs: 8 * H });
    assert.equal(withLearnedWindow(fixed, 2 * H).windowMs, WINDOW_MS);
  });

  test('stragglers under a wrong model: the cutoff leaves time to redo every batch in flight synchronously', () => {
    // Six batches of 100: 10 calls of 60 s each per batch, two batches at a time → three waves of 10 min.
    const sizes = [100, 100, 100, 100, 100, 100];
    const cutoff = 8 * H - 30 * MIN;
    assert.equal(isStraggler(cutoff - 1, 100, p, sizes), false);
    assert.equal(isStraggler(cutoff, 100, p, sizes), true);
    assert.equal(nextSlaEventMs(7 * H, sizes, p), cutoff);
    // A fixed-window job keeps the per-batch rule (10 min before the deadline), unchanged.
    const fixed = SlaPolicySchema.parse({ deadlineMs: 8 * H, syncConcurrency: 10, maxSyncShardsInFlight: 2 });
    assert.equal(isStraggler(cutoff, 100, fixed, sizes), false);
    assert.equal(isStraggler(8 * H - 10 * MIN, 100, fixed, sizes), true);
  });
});
