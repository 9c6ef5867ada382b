// The report at many sub-batches, without a browser or a server: the timeline groups its bars past 500 and says so,
// the done-over-time line keeps a bounded number of points, and the page of a 10,000-batch job stays small.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobOptionsSchema, type BatchTiming } from '../src/domain/job';
import {
  doneOverTime,
  shapeReport,
  timelineRows,
  type ReportRecords,
  type ReportSummary,
  type SubmissionFacts,
} from '../src/domain/report-data';
import { createOutcomeFold } from '../src/domain/report-outcomes';
import { groupTimeline, TIMELINE_MAX_BARS } from '../src/domain/report-timeline';
import { chartOptions } from '../src/report/chart-options';
import { renderReportHtml } from '../src/report/render-html';

const T0 = Date.parse('2026-12-01T02:00:00Z');
const PER_BATCH = 100;

/** A finished job of `batches` sub-batches of 100 (every 50th a retry, every 200th canceled), one a second. */
function job(batches: number): ReportRecords {
  const submissions: SubmissionFacts[] = [];
  const timings: BatchTiming[] = [];
  for (let s = 0; s < batches; s++) {
    const retry = s % 50 === 49;
    const shardKey = retry ? `r001-${String(s).padStart(6, '0')}` : `s${String(s).padStart(6, '0')}`;
    const batchId = `msgbatch_${String(s).padStart(24, '0')}`;
    const startMs = T0 + s * 1_000;
    submissions.push({ shardKey, requests: PER_BATCH, intentAtMs: startMs, batchId, createdAtMs: startMs });
    timings.push({
      batchId,
      createdAtMs: startMs,
      endedAtMs: startMs + 600_000 + (s % 7) * 60_000,
      seenAtMs: startMs + 5_000 + (s % 7) * 1_000,
      requests: PER_BATCH,
      counts: { succeeded: PER_BATCH, errored: 0, canceled: 0, expired: 0 },
      ...(s % 200 === 17 ? { cancelInitiatedAtMs: startMs + 1_000 } : {}),
    });
  }
  const finishedAtMs = T0 + batches * 1_000 + 20_000;
  const requests = batches * PER_BATCH;
  const summary: ReportSummary = {
    jobId: `sluice-job-${batches}`,
    name: `${batches} batches`,
    requests,
    outcomes: { succeeded: requests, failed: 0, canceled: 0, sla_missed: 0, not_run: 0, invalid_output: 0 },
    attempts: { '1': requests },
    byMode: { batch: requests, sync: 0 },
    tokens: { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 },
    costUsd: 0,
    costByMode: { batch: 0, sync: 0 },
    syncEquivalentUsd: 0,
    savedUsd: 0,
    unpricedModels: [],
    batchesCreated: batches,
    wallTimeMs: finishedAtMs - T0,
    finishedAt: new Date(finishedAtMs).toISOString(),
  };
  const outcomes = createOutcomeFold({
    batchEndedAtMs: () => undefined,
    syncEndedAtMs: () => undefined,
    finishedAtMs,
  }).result();
  // Each batch settled its requests when it was seen ended: one point of the done line per batch.
  outcomes.settled = timings
    .map((t) => ({ atMs: t.seenAtMs!, succeeded: PER_BATCH, failed: 0 }))
    .sort((a, b) => a.atMs - b.atMs);
  return {
    jobId: summary.jobId,
    summary,
    spec: { name: summary.name, requestCount: requests, submittedAtMs: T0, options: JobOptionsSchema.parse({}) },
    submissions,
    timings,
    seenEnded: [],
    syncTimings: [
      { shardKey: 'r002-000000', requests: 3, startedAtMs: finishedAtMs - 9_000, endedAtMs: finishedAtMs - 8_000 },
    ],
    outcomes,
    generatedAtMs: finishedAtMs + 1_000,
  };
}

type Bar = { value: number[]; tip: string };
const bars = (option: Record<string, unknown>) =>
  Object.fromEntries((option.series as { name: string; data: Bar[] }[]).map((s) => [s.name, s.data]));

describe('the timeline past 500 sub-batches', () => {
  it('draws one bar per sub-batch up to 500, and says nothing of grouping', () => {
    const d = shapeReport(job(100));
    const timeline = chartOptions(d).timeline;
    const all = Object.values(bars(timeline)).flat();
    assert.equal(all.length, 101);
    assert.equal((timeline.title as { subtext?: string }).subtext, undefined);
    assert.ok(!renderReportHtml(d).includes('id="timeline-grouping"'));
    assert.equal(groupTimeline(timelineRows(job(TIMELINE_MAX_BARS - 1), T0 * 2)), undefined);
  });

  it('groups consecutive sub-batches of one kind into at most 500 bars that still hold every sub-batch and request', () => {
    const records = job(10_000);
    const rows = timelineRows(records, T0 * 2);
    const grouping = groupTimeline(rows)!;
    assert.equal(grouping.perBar, 21);
    assert.ok(grouping.groups.length <= TIMELINE_MAX_BARS, `${grouping.groups.length} bars`);
    assert.equal(
      grouping.groups.reduce((a, g) => a + g.members, 0),
      rows.length,
    );
    // Kinds stay apart: 200 retries, 50 canceled, 1 synchronous; the rest first tries.
    const members = (colour: string) =>
      grouping.groups.filter((g) => g.colour === colour).reduce((a, g) => a + g.members, 0);
    assert.deepEqual(['batch', 'retry', 'canceled', 'sync'].map(members), [10_000 - 200 - 50, 200, 50, 1]);
    // A bar spans its members: from the first one's start to the latest end among them.
    const first = grouping.groups[0]!;
    const its = rows.filter((r) => !r.canceled && r.kind === 'batch').slice(0, first.members);
    assert.equal(first.startMs, its[0]!.startMs);
    assert.equal(first.endMs, Math.max(...its.map((r) => r.endMs)));
    assert.equal(first.requests, its.length * PER_BATCH);
    assert.equal(first.counts!.succeeded, its.length * PER_BATCH);
    // Bars come in the order of their first sub-batch.
    const starts = grouping.groups.filter((g) => g.colour !== 'sync').map((g) => g.startMs);
    assert.deepEqual(
      starts,
      [...starts].sort((a, b) => a - b),
    );
  });

  it('keeps the done-over-time line to 1,000 points, ending at every request done', () => {
    const settled = Array.from({ length: 10_000 }, (_, i) => ({
      atMs: T0 + i * 1_000 + (i % 3),
      succeeded: 2,
      failed: 1,
    }));
    const done = doneOverTime(settled);
    assert.ok(done.length <= 1_000 && done.length > 900, `${done.length} points`);
    assert.deepEqual(done.at(-1), { atMs: settled.at(-1)!.atMs, done: 30_000, succeeded: 20_000 });
    for (let i = 1; i < done.length; i++)
      assert.ok(done[i]!.atMs > done[i - 1]!.atMs && done[i]!.done > done[i - 1]!.done);
    assert.equal(doneOverTime(settled.slice(0, 50)).length, 50, 'few points are all kept');
  });

  it('the page of a 10,000-batch job is about the size of a 100-batch one, and its timeline says how it grouped', () => {
    const small = renderReportHtml(shapeReport(job(100)));
    const d = shapeReport(job(10_000));
    const html = renderReportHtml(d);
    assert.ok(
      html.length - small.length < 250_000,
      `10,000 batches: ${html.length} characters against ${small.length} for 100`,
    );
    assert.match(
      html,
      /<p class="note" id="timeline-grouping">10,001 sub-batches, grouped: each bar is up to 21 consecutive sub-batches of one kind, from the first one&#39;s start to the last one&#39;s end \(\d+ bars\)/,
    );
    const timeline = chartOptions(d).timeline;
    assert.match(String((timeline.title as { text: string }).text), /^Sub-batches: 10,001,/);
    assert.match(
      String((timeline.title as { subtext: string }).subtext),
      /each bar is up to 21 consecutive sub-batches/,
    );
    const drawn = Object.values(bars(timeline)).flat();
    assert.ok(drawn.length <= TIMELINE_MAX_BARS);
    assert.equal(
      drawn.reduce((a, b) => a + b.value[3]!, 0),
      d.summary.requests + 3,
      'every request of the timeline is in some bar',
    );
    // s000017 was canceled: it is in a grey bar, so the first bar of first tries reaches s000021.
    assert.match(drawn[0]!.tip, /^21 batches, s000000 to s000021\n2,100 requests.*\nsucceeded 2,100, errored 0/s);
  });
});
