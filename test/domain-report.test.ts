// The job report's data shaping, without a browser or a server: what each chart and table is given.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { costOfUsage, type Usage } from '../src/domain/cost';
import { JobOptionsSchema, type BatchTiming, type OutcomeLine } from '../src/domain/job';
import { costByKind, sumByKind, tokensByKind } from '../src/domain/report-cost';
import {
  histogram,
  percentile,
  retriesByAttempt,
  shapeReport,
  timelineRows,
  type ReportRecords,
  type ReportSummary,
} from '../src/domain/report-data';
import { createOutcomeFold, FAILURE_EXAMPLES } from '../src/domain/report-outcomes';
import { chartOptions } from '../src/report/chart-options';
import { renderReportHtml } from '../src/report/render-html';

const T0 = Date.parse('2026-12-01T02:00:00Z');
const close = (actual: number, expected: number, what = '') =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what} ${actual} ≠ ${expected}`);

describe('cost by token kind', () => {
  const usages: Usage[] = [
    { input_tokens: 1_000, output_tokens: 500 },
    { input_tokens: 10, output_tokens: 20, cache_creation_input_tokens: 3_000, cache_read_input_tokens: 40_000 },
    {
      input_tokens: 1,
      output_tokens: 1,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 900 },
    },
    {
      input_tokens: 5,
      output_tokens: 7,
      cache_creation_input_tokens: 1_000,
      cache_creation: { ephemeral_1h_input_tokens: 400 },
    },
    {},
  ];
  for (const [i, usage] of usages.entries()) {
    for (const mode of ['batch', 'sync'] as const) {
      it(`adds up to costOfUsage (usage ${i}, ${mode})`, () => {
        close(sumByKind(costByKind('claude-sonnet-4-5', usage, mode)!), costOfUsage('claude-sonnet-4-5', usage, mode)!);
      });
    }
  }

  it('prices each kind apart: cache reads at a tenth, 1-hour cache writes at twice the input price, batch at half', () => {
    const usd = costByKind(
      'claude-haiku-4-5',
      {
        input_tokens: 1e6,
        output_tokens: 1e6,
        cache_read_input_tokens: 1e6,
        cache_creation: { ephemeral_1h_input_tokens: 1e6 },
      },
      'batch',
    )!;
    const expected = { input: 0.5, output: 2.5, cacheWrite: 1, cacheRead: 0.05 };
    for (const kind of Object.keys(expected) as (keyof typeof expected)[]) close(usd[kind], expected[kind], kind);
    assert.deepEqual(
      tokensByKind({ input_tokens: 3, cache_creation: { ephemeral_5m_input_tokens: 2, ephemeral_1h_input_tokens: 1 } }),
      {
        input: 3,
        output: 0,
        cacheWrite: 3,
        cacheRead: 0,
      },
    );
  });

  it('has no price for an unknown model', () =>
    assert.equal(costByKind('gpt-4', { input_tokens: 1 }, 'sync'), undefined));
});

describe('percentile and histogram', () => {
  it('nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.deepEqual(
      [50, 90, 99, 100].map((p) => percentile(sorted, p)),
      [50, 90, 99, 100],
    );
    assert.deepEqual(
      [50, 90, 99].map((p) => percentile([7], p)),
      [7, 7, 7],
    );
    assert.equal(percentile([], 50), undefined);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
  });

  it('counts every value once, the maximum in the last bin', () => {
    const values = [1, 2, 2, 3, 10, 10, 4, 5, 9];
    const bins = histogram(values);
    assert.equal(bins.length, 3);
    assert.equal(
      bins.reduce((a, b) => a + b.count, 0),
      values.length,
    );
    assert.deepEqual(
      bins.map((b) => b.count),
      [4, 2, 3],
    );
    assert.equal(bins.at(-1)!.toMs, 10);
    assert.deepEqual(histogram([4, 4]), [{ fromMs: 4, toMs: 4, count: 2 }]);
    assert.deepEqual(histogram([]), []);
  });
});

const ok = (id: string, batchIds: string[], extra: Partial<OutcomeLine> = {}): OutcomeLine => ({
  custom_id: id,
  line: 1,
  status: 'succeeded',
  attempts: batchIds.length,
  batch_ids: batchIds,
  mode: 'batch',
  message: {
    model: 'claude-haiku-4-5',
    usage: { input_tokens: 100, output_tokens: 10 },
    content: [{ type: 'text', text: 'SECRET ANSWER' }],
  },
  ...extra,
});
const failed = (id: string, type: string, batchIds: string[]): OutcomeLine => ({
  custom_id: id,
  line: 1,
  status: 'failed',
  attempts: batchIds.length,
  batch_ids: batchIds,
  error: { type, message: 'the prompt said SECRET PROMPT' },
});

describe('the outcome fold', () => {
  const fold = () =>
    createOutcomeFold({
      batchEndedAtMs: (id) => ({ b1: T0 + 1_000, b2: T0 + 5_000 })[id],
      syncEndedAtMs: (id) => (id.startsWith('s') ? T0 + 7_000 : undefined),
      finishedAtMs: T0 + 9_000,
    });

  it('splits cost by model and mode, settles each answer when its batch or sync call ended', () => {
    const f = fold();
    f.add(ok('a', ['b1']));
    f.add(ok('b', ['b1', 'b2']));
    f.add(ok('s1', ['b1'], { mode: 'sync', attempts: 2 }));
    f.add(ok('x', ['gone']));
    f.add(failed('c', 'invalid_request_error', ['b1']));
    f.add({ custom_id: 'n', line: 9, status: 'not_run', attempts: 0, batch_ids: [] });
    const r = f.result();
    assert.equal(r.requests, 6);
    assert.deepEqual(
      r.costRows.map((c) => [c.model, c.mode, c.requests, c.tokens.input]),
      [
        ['claude-haiku-4-5', 'batch', 3, 300],
        ['claude-haiku-4-5', 'sync', 1, 100],
      ],
    );
    close(
      sumByKind(r.costRows[0]!.usd),
      3 * costOfUsage('claude-haiku-4-5', { input_tokens: 100, output_tokens: 10 }, 'batch')!,
    );
    close(sumByKind(r.costRows[1]!.usd), sumByKind(r.costRows[1]!.syncEquivalentUsd), 'sync costs its own price');
    assert.deepEqual(r.settled, [
      { atMs: T0 + 1_000, succeeded: 1, failed: 1 },
      { atMs: T0 + 5_000, succeeded: 1, failed: 0 },
      { atMs: T0 + 7_000, succeeded: 1, failed: 0 },
      { atMs: T0 + 9_000, succeeded: 1, failed: 0 },
    ]);
    assert.equal(r.settledAtUnknownTime, 1, 'the batch without a timing is counted at the end');
    assert.deepEqual(r.byAttempts, { '0': { not_run: 1 }, '1': { succeeded: 2, failed: 1 }, '2': { succeeded: 2 } });
    assert.deepEqual(
      r.failures.map((g) => [g.type, g.status, g.count]),
      [
        ['invalid_request_error', 'failed', 1],
        ['not_run', 'not_run', 1],
      ],
    );
  });

  it('settles outcomes of unknown time at the end the job is given when the result is taken (finalize folds before it)', () => {
    const context = {
      batchEndedAtMs: (id: string) => ({ b1: T0 + 1_000 })[id],
      syncEndedAtMs: () => undefined,
      finishedAtMs: Number.NaN,
    };
    const f = createOutcomeFold(context);
    f.add(ok('a', ['b1']));
    f.add(ok('x', ['gone']));
    f.add(failed('y', 'api_error', ['gone']));
    context.finishedAtMs = T0 + 1_000; // the job ended when its batch did: one point, not two
    assert.deepEqual(f.result().settled, [{ atMs: T0 + 1_000, succeeded: 2, failed: 1 }]);
    context.finishedAtMs = T0 + 9_000;
    assert.deepEqual(f.result().settled, [
      { atMs: T0 + 1_000, succeeded: 1, failed: 0 },
      { atMs: T0 + 9_000, succeeded: 1, failed: 1 },
    ]);
  });

  it(`keeps ${FAILURE_EXAMPLES} example custom_ids per error type, most frequent type first`, () => {
    const f = fold();
    for (let i = 0; i < 8; i++) f.add(failed(`t-${i}`, 'overloaded_error', ['b1', 'b2', 'b2']));
    f.add(failed('u', 'api_error', ['b1']));
    const groups = f.result().failures;
    assert.deepEqual(groups[0], {
      type: 'overloaded_error',
      status: 'failed',
      count: 8,
      examples: ['t-0', 't-1', 't-2', 't-3', 't-4'],
    });
    assert.equal(groups[1]!.type, 'api_error');
  });

  it('counts the tokens of an unknown model and says it had no price', () => {
    const f = fold();
    f.add(ok('a', ['b1'], { message: { model: 'gpt-4', usage: { input_tokens: 5 } } }));
    const [row] = f.result().costRows;
    assert.equal(row!.unpriced, 1);
    assert.equal(row!.tokens.input, 5);
    assert.equal(sumByKind(row!.usd), 0);
  });
});

describe('the timeline', () => {
  const timing = (
    batchId: string,
    createdAtMs: number,
    endedAtMs: number,
    extra: Partial<BatchTiming> = {},
  ): BatchTiming => ({
    batchId,
    createdAtMs,
    endedAtMs,
    requests: 100,
    counts: { succeeded: 100, errored: 0, canceled: 0, expired: 0 },
    ...extra,
  });
  // The API's clock runs 1,000× fast (the emulator): Sluice's own clock places the bars.
  const rows = timelineRows(
    {
      submissions: [
        { shardKey: 's000001', requests: 100, intentAtMs: T0 + 200, batchId: 'b2' },
        { shardKey: 's000000', requests: 100, intentAtMs: T0 + 100, batchId: 'b1', reconciled: true },
        { shardKey: 'r001-000000', requests: 7, intentAtMs: T0 + 3_000, batchId: 'b3' },
        { shardKey: 's000002', requests: 100, intentAtMs: T0 + 300, batchId: 'b4' },
        { shardKey: 's000003', requests: 100, intentAtMs: T0 + 400 },
      ],
      timings: [
        timing('b1', T0 * 2, T0 * 2 + 1_200_000),
        timing('b2', T0 * 2, T0 * 2 + 2_000_000, { cancelInitiatedAtMs: T0 * 2 + 5 }),
        timing('b3', T0 * 2, T0 * 2 + 600_000, { requests: 7 }),
      ],
      seenEnded: [
        { batchId: 'b1', seenEndedAtMs: T0 + 1_500 },
        { batchId: 'b2', seenEndedAtMs: T0 + 2_500 },
      ],
      syncTimings: [{ shardKey: 'r002-000000', requests: 3, startedAtMs: T0 + 4_000, endedAtMs: T0 + 4_400 }],
    },
    T0 + 9_000,
  );

  it('draws batches from submission to the moment a poll saw them end, then synchronous sub-batches', () => {
    assert.deepEqual(
      rows.map((r) => [r.shardKey, r.kind, r.startMs - T0, r.endMs - T0, r.ended, r.canceled, r.apiDurationMs]),
      [
        ['s000000', 'batch', 100, 1_500, true, false, 1_200_000],
        ['s000001', 'batch', 200, 2_500, true, true, 2_000_000],
        ['s000002', 'batch', 300, 9_000, false, false, undefined],
        ['r001-000000', 'retry', 3_000, 603_000, true, false, 600_000],
        ['r002-000000', 'sync', 4_000, 4_400, true, false, undefined],
      ],
    );
    assert.equal(rows[0]!.reconciled, true);
    assert.equal(rows[3]!.requests, 7);
  });

  it('measures latency by the API, leaving out canceled and unfinished batches', () => {
    const report = shapeReport(records({ timeline: rows }));
    assert.equal(report.latency.batches, 2);
    assert.equal(report.latency.canceled, 1);
    assert.deepEqual([report.latency.p50Ms, report.latency.p99Ms], [600_000, 1_200_000]);
  });

  it('ends a bar at the timing record\'s first sighting when there is no seen-ended record (written once since)', () => {
    const [row] = timelineRows(
      {
        submissions: [{ shardKey: 's000000', requests: 100, intentAtMs: T0 + 100, batchId: 'b1' }],
        timings: [timing('b1', T0 * 2, T0 * 2 + 1_200_000, { seenAtMs: T0 + 1_700 })],
        seenEnded: [],
        syncTimings: [],
      },
      T0 + 9_000,
    );
    assert.deepEqual([row!.startMs - T0, row!.endMs - T0, row!.ended], [100, 1_700, true]);
  });
});

describe('retries by attempt', () => {
  it('counts the requests sent as each attempt from 2 on', () => {
    assert.deepEqual(
      retriesByAttempt({ '0': { not_run: 4 }, '1': { succeeded: 90 }, '3': { succeeded: 5, failed: 1 } }),
      [
        { attempt: 2, requests: 6 },
        { attempt: 3, requests: 6 },
      ],
    );
    assert.deepEqual(retriesByAttempt({ '1': { succeeded: 3 } }), []);
  });
});

const SUMMARY: ReportSummary = {
  jobId: 'sluice-job-x',
  name: 'x',
  requests: 3,
  outcomes: { succeeded: 2, failed: 1, canceled: 0, sla_missed: 0, not_run: 0, invalid_output: 0 },
  attempts: { '1': 3 },
  byMode: { batch: 2, sync: 0 },
  tokens: { input: 200, output: 20, cacheCreation: 0, cacheRead: 0 },
  costUsd: 0.00015,
  costByMode: { batch: 0.00015, sync: 0 },
  syncEquivalentUsd: 0.0003,
  savedUsd: 0.00015,
  unpricedModels: [],
  batchesCreated: 1,
  wallTimeMs: 9_000,
  finishedAt: new Date(T0 + 9_000).toISOString(),
};

/** Records of a small job; `timeline` only stands for rows already built (its records are left empty). */
function records(
  o: { timeline?: ReturnType<typeof timelineRows>; deadline?: boolean; name?: string } = {},
): ReportRecords {
  const f = createOutcomeFold({
    batchEndedAtMs: () => T0 + 1_000,
    syncEndedAtMs: () => undefined,
    finishedAtMs: T0 + 9_000,
  });
  f.add(ok('a', ['b1']));
  f.add(ok('b', ['b1']));
  f.add(failed('c</script><script>alert(1)</script>', 'invalid_request_error', ['b1']));
  const base: ReportRecords = {
    jobId: SUMMARY.jobId,
    summary: SUMMARY,
    spec: {
      name: o.name ?? 'x',
      requestCount: 3,
      submittedAtMs: T0,
      source: '/home/ann/data/tickets.jsonl',
      options: JobOptionsSchema.parse(o.deadline ? { sla: { deadlineMs: T0 + 30 * 3_600_000 } } : {}),
    },
    submissions: [{ shardKey: 's000000', requests: 3, intentAtMs: T0 + 10, batchId: 'b1' }],
    timings: [
      {
        batchId: 'b1',
        createdAtMs: T0 + 20,
        endedAtMs: T0 + 900,
        requests: 3,
        counts: { succeeded: 2, errored: 1, canceled: 0, expired: 0 },
      },
    ],
    seenEnded: [],
    syncTimings: [],
    outcomes: f.result(),
    webUiLink: 'http://127.0.0.1:8233/namespaces/default/workflows/sluice-job-x',
    generatedAtMs: T0 + 10_000,
  };
  if (!o.timeline) return base;
  // Stand the given rows in through records that rebuild them.
  return {
    ...base,
    submissions: o.timeline
      .filter((r) => r.batchId)
      .map((r) => ({ shardKey: r.shardKey, requests: r.requests, intentAtMs: r.startMs, batchId: r.batchId })),
    timings: o.timeline.flatMap((r) =>
      r.batchId && r.ended
        ? [
            {
              batchId: r.batchId,
              createdAtMs: 0,
              endedAtMs: r.apiDurationMs ?? 0,
              requests: r.requests,
              counts: r.counts!,
              ...(r.canceled ? { cancelInitiatedAtMs: 1 } : {}),
            },
          ]
        : [],
    ),
    seenEnded: o.timeline.flatMap((r) =>
      r.batchId && r.ended ? [{ batchId: r.batchId, seenEndedAtMs: r.endMs }] : [],
    ),
  };
}

describe('shapeReport', () => {
  it('draws the deadline and the latest batch submission (D − W − M) when the job has a deadline', () => {
    const d = shapeReport(records({ deadline: true }));
    assert.equal(d.deadlineMs, T0 + 30 * 3_600_000);
    assert.equal(d.latestBatchSubmissionMs, T0 + 4 * 3_600_000);
    const lines = (chartOptions(d).timeline.series as { markLine?: { data: { name: string; xAxis: number }[] } }[])[0]!
      .markLine!.data;
    assert.deepEqual(
      lines.map((l) => [l.name, l.xAxis]),
      [
        ['latest batch submission', T0 + 4 * 3_600_000],
        ['deadline', T0 + 30 * 3_600_000],
      ],
    );
    assert.equal(shapeReport(records()).deadlineMs, undefined);
  });

  it('lists the options flattened, times as ISO', () => {
    const options = shapeReport(records({ deadline: true })).options;
    const value = (field: string) => options.find((o) => o.field === field)?.value;
    assert.equal(value('batchSize'), '100');
    assert.equal(value('sla.deadlineMs'), new Date(T0 + 30 * 3_600_000).toISOString());
    assert.equal(value('sla.mode'), '"auto"');
    assert.equal(value('submitted'), new Date(T0).toISOString());
    assert.equal(value('source'), 'tickets.jsonl', 'the file, not where it is kept');
  });

  it('without the start input, takes the name from the summary and the start from the wall time', () => {
    const d = shapeReport({ ...records(), spec: undefined });
    assert.equal(d.name, 'x');
    assert.equal(d.startedAtMs, T0);
    assert.deepEqual(d.options, []);
    assert.match(renderReportHtml(d), /its options are not shown/);
  });
});

describe('the chart options', () => {
  const d = shapeReport(records({ deadline: true }));
  const charts = chartOptions(d);

  it('cost bars add up to the cost paid and to the synchronous price', () => {
    const labels = (charts.cost.xAxis as { data: string[] }).data;
    assert.deepEqual(labels, ['claude-haiku-4-5\nbatch', 'claude-haiku-4-5\nat synchronous prices']);
    const series = charts.cost.series as { data: number[]; totals?: string[] }[];
    const bar = (i: number) => series.reduce((a, s) => a + s.data[i]!, 0);
    close(bar(0), SUMMARY.costUsd, 'paid');
    close(bar(1), SUMMARY.syncEquivalentUsd, 'sync');
    assert.deepEqual(series.at(-1)!.totals, ['$0.000150', '$0.000300']);
  });

  it('the attempts chart shows every attempt up to the most taken, and what was sent as each', () => {
    const withRetries = chartOptions({
      ...d,
      outcomes: { ...d.outcomes, byAttempts: { '1': { succeeded: 5 }, '3': { failed: 2 } } },
      retriesByAttempt: retriesByAttempt({ '1': { succeeded: 5 }, '3': { failed: 2 } }),
    });
    assert.deepEqual((withRetries.attempts.xAxis as { data: string[] }).data, ['attempt 1', 'attempt 2', 'attempt 3']);
    const sent = (withRetries.attempts.series as { name: string; data: number[] }[]).find(
      (s) => s.name === 'sent as this attempt',
    )!;
    assert.deepEqual(sent.data, [7, 2, 2]);
  });

  it('the failures chart names each error type', () => {
    assert.deepEqual((charts.failures.yAxis as { data: string[] }).data, ['invalid_request_error']);
  });
});

describe('the page', () => {
  const html = renderReportHtml(shapeReport(records({ deadline: true, name: 'a <b>"job"</b>' })));

  it('escapes names and ids, and nothing in the data can end a script early', () => {
    assert.ok(html.includes('a &lt;b&gt;&quot;job&quot;&lt;/b&gt;'));
    assert.ok(!html.includes('<b>"job"</b>'));
    assert.ok(!html.includes('c</script>'), 'a custom_id ended a script');
    assert.ok(html.includes('c&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'), 'escaped in the failures table');
    assert.ok(html.includes('c\\u003c/script>'), 'escaped in the chart options');
  });

  it('holds no answer text and no error message, only types and ids', () => {
    assert.ok(html.includes('invalid_request_error'));
    assert.ok(!html.includes('SECRET ANSWER'));
    assert.ok(!html.includes('SECRET PROMPT'));
  });

  it('inlines ECharts and marks each figure of summary.json with its field', () => {
    assert.ok(html.includes('echarts'));
    assert.ok(!/<script[^>]+src=/.test(html), 'no external script');
    for (const field of [
      'requests',
      'outcomes.failed',
      'costUsd',
      'syncEquivalentUsd',
      'costByMode.sync',
      'tokens.cacheRead',
    ]) {
      assert.ok(html.includes(`data-summary="${field}">`), field);
    }
    assert.ok(html.includes('<td colspan="2" data-summary="costUsd">$0.000150</td>'));
  });
});
