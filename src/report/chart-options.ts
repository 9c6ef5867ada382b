/**
 * The report's charts as Apache ECharts options: plain JSON built from ReportData, so what each chart shows is
 * tested without a browser. The few functions ECharts needs (drawing a bar of the timeline or of the histogram,
 * tooltips) are named by strings "@fn:<name>" that the page's script replaces (see render-html.ts).
 */
import type { OutcomeStatus } from '../domain/job';
import type { ReportData, TimelineKind, TimelineRow } from '../domain/report-data';
import { sumByKind, TOKEN_KIND_LABELS, TOKEN_KINDS } from '../domain/report-cost';
import { groupTimeline, rowColour, type TimelineGroup, type TimelineGrouping } from '../domain/report-timeline';
import { count, isoTime, span, usd } from './format';

export const CHART_IDS = ['timeline', 'latency', 'done', 'cost', 'failures', 'attempts'] as const;
export type ChartId = (typeof CHART_IDS)[number];
type Option = Record<string, unknown>;

const KIND_COLORS: Record<TimelineKind | 'canceled', string> = {
  batch: '#4e79a7',
  retry: '#f28e2b',
  sync: '#e15759',
  canceled: '#9c9c9c',
};
const KIND_NAMES: Record<TimelineKind | 'canceled', string> = {
  batch: 'batch, first tries',
  retry: 'batch, retries',
  sync: 'synchronous',
  canceled: 'canceled by Sluice',
};
const STATUS_COLORS: Record<OutcomeStatus, string> = {
  succeeded: '#59a14f',
  failed: '#e15759',
  canceled: '#9c9c9c',
  sla_missed: '#b07aa1',
  not_run: '#bab0ac',
  invalid_output: '#f28e2b',
};
const KIND_OF_TOKEN_COLORS = ['#4e79a7', '#f28e2b', '#76b7b2', '#edc948'];
/** Row labels are readable up to this many sub-batches; beyond, the timeline scrolls. */
const LABELLED_ROWS = 40;

export function chartOptions(d: ReportData, grouping = groupTimeline(d.timeline)): Record<ChartId, Option> {
  return {
    timeline: timelineChart(d, grouping),
    latency: latencyChart(d),
    done: doneChart(d),
    cost: costChart(d),
    failures: failuresChart(d),
    attempts: attemptsChart(d),
  };
}

function slaLines(d: ReportData): { name: string; xAxis: number; lineStyle: Option; label: Option }[] {
  const lines = [];
  if (d.latestBatchSubmissionMs !== undefined) {
    lines.push({
      name: 'latest batch submission',
      xAxis: d.latestBatchSubmissionMs,
      lineStyle: { color: '#b07aa1', type: 'dashed', width: 2 },
      label: { formatter: 'latest batch submission', position: 'insideEndTop' },
    });
  }
  if (d.deadlineMs !== undefined) {
    lines.push({
      name: 'deadline',
      xAxis: d.deadlineMs,
      lineStyle: { color: '#d62728', type: 'solid', width: 2 },
      label: { formatter: 'deadline', position: 'insideEndTop' },
    });
  }
  return lines;
}

function timeRange(d: ReportData) {
  const fixed = [d.startedAtMs, d.finishedAtMs, d.deadlineMs, d.latestBatchSubmissionMs].filter(
    (ms): ms is number => ms !== undefined,
  );
  let min = Math.min(...fixed);
  let max = Math.max(...fixed);
  for (const r of d.timeline) {
    min = Math.min(min, r.startMs, r.endMs);
    max = Math.max(max, r.startMs, r.endMs);
  }
  return { min, max };
}

function rowTip(r: TimelineRow): string {
  const what = r.kind === 'sync' ? 'synchronous sub-batch' : r.kind === 'retry' ? 'retry batch' : 'batch';
  const parts = [
    `${r.shardKey} (${what})${r.batchId ? ` ${r.batchId}` : ''}`,
    `${count(r.requests)} requests, ${span(r.endMs - r.startMs)}${r.ended ? '' : ', never ended'}${
      r.apiDurationMs === undefined ? '' : ` (${span(r.apiDurationMs)} by the API's created_at → ended_at)`
    }`,
    `${isoTime(r.startMs)} → ${isoTime(r.endMs)}`,
  ];
  if (r.counts) {
    const c = r.counts;
    parts.push(`succeeded ${c.succeeded}, errored ${c.errored}, expired ${c.expired}, canceled ${c.canceled}`);
  }
  if (r.canceled) parts.push('canceled by Sluice before it ended');
  if (r.reconciled) parts.push('found by reconciling a lost create');
  return parts.join('\n');
}

function groupTip(g: TimelineGroup): string {
  const what = g.colour === 'sync' ? 'synchronous sub-batches' : g.colour === 'retry' ? 'retry batches' : 'batches';
  const parts = [
    `${count(g.members)} ${g.colour === 'canceled' ? 'canceled batches' : what}, ${g.firstShardKey} to ${g.lastShardKey}`,
    `${count(g.requests)} requests, ${span(g.endMs - g.startMs)} from the first start to the last end${
      g.ended === g.members ? '' : `, ${count(g.members - g.ended)} never ended`
    }`,
    `${isoTime(g.startMs)} → ${isoTime(g.endMs)}`,
  ];
  if (g.firstBatchId) parts.push(`batches ${g.firstBatchId} … ${g.lastBatchId ?? ''}`);
  if (g.apiMinMs !== undefined)
    parts.push(`${span(g.apiMinMs)} to ${span(g.apiMaxMs!)} each by the API's created_at → ended_at`);
  if (g.counts) {
    const c = g.counts;
    parts.push(
      `succeeded ${count(c.succeeded)}, errored ${count(c.errored)}, expired ${count(c.expired)}, canceled ${count(c.canceled)}`,
    );
  }
  if (g.colour === 'canceled') parts.push('canceled by Sluice before they ended');
  if (g.reconciled) parts.push(`${count(g.reconciled)} found by reconciling a lost create`);
  return parts.join('\n');
}

/** How the timeline grouped its sub-batches, in words; undefined when each has a bar of its own. */
export function timelineGroupingNote(g: TimelineGrouping | undefined): string | undefined {
  if (!g) return undefined;
  return `${count(g.subBatches)} sub-batches, grouped: each bar is up to ${count(g.perBar)} consecutive sub-batches of one kind, from the first one's start to the last one's end (${count(g.groups.length)} bars)`;
}

/** One bar per sub-batch, or (past TIMELINE_MAX_BARS) per group of consecutive sub-batches of one kind. */
export function timelineChart(d: ReportData, grouping = groupTimeline(d.timeline)): Option {
  const bars: {
    colour: TimelineKind | 'canceled';
    label: string;
    startMs: number;
    endMs: number;
    requests: number;
    tip: string;
  }[] = grouping
    ? grouping.groups.map((g) => ({
        colour: g.colour,
        label: `${g.firstShardKey} … ${g.lastShardKey} (${g.members})`,
        startMs: g.startMs,
        endMs: g.endMs,
        requests: g.requests,
        tip: groupTip(g),
      }))
    : d.timeline.map((r) => ({
        colour: rowColour(r),
        label: r.label,
        startMs: r.startMs,
        endMs: r.endMs,
        requests: r.requests,
        tip: rowTip(r),
      }));
  const { min, max } = timeRange(d);
  const kinds = ['batch', 'retry', 'sync', 'canceled'] as const;
  const series = kinds.map((kind, i) => ({
    type: 'custom',
    name: KIND_NAMES[kind],
    renderItem: '@fn:ganttBar',
    itemStyle: { color: KIND_COLORS[kind] },
    encode: { x: [1, 2], y: 0 },
    data: bars.flatMap((b, index) =>
      b.colour === kind ? [{ value: [index, b.startMs, b.endMs, b.requests], tip: b.tip }] : [],
    ),
    ...(i === 0 ? { markLine: { symbol: 'none', silent: true, data: slaLines(d) } } : {}),
  }));
  const note = timelineGroupingNote(grouping);
  return {
    title: { text: `Sub-batches: ${count(d.timeline.length)}, submitted → ended`, ...(note ? { subtext: note } : {}) },
    tooltip: { formatter: '@fn:tip' },
    legend: { top: note ? 50 : 36 },
    grid: { left: bars.length <= LABELLED_ROWS ? 210 : 40, right: 40, top: note ? 94 : 80, bottom: 60 },
    xAxis: { type: 'time', min, max },
    yAxis: {
      type: 'category',
      inverse: true,
      data: bars.map((b) => b.label),
      axisLabel: { show: bars.length <= LABELLED_ROWS, fontSize: 10 },
    },
    ...(bars.length > LABELLED_ROWS
      ? { dataZoom: [{ type: 'slider', yAxisIndex: 0, right: 5, startValue: 0, endValue: LABELLED_ROWS }] }
      : {}),
    series,
  };
}

export function latencyChart(d: ReportData): Option {
  const l = d.latency;
  const marks = (
    [
      ['p50', l.p50Ms],
      ['p90', l.p90Ms],
      ['p99', l.p99Ms],
    ] as const
  ).flatMap(([name, ms]) =>
    ms === undefined ? [] : [{ name, xAxis: ms / 1_000, label: { formatter: name, position: 'end' } }],
  );
  const percentiles = [l.p50Ms, l.p90Ms, l.p99Ms].every((ms) => ms !== undefined)
    ? `p50 ${span(l.p50Ms!)} · p90 ${span(l.p90Ms!)} · p99 ${span(l.p99Ms!)}`
    : 'no batch ended on its own';
  return {
    title: {
      text: `Batch latency: ${count(l.batches)} batches${l.canceled ? ` (${l.canceled} canceled, left out)` : ''}`,
      subtext: percentiles,
    },
    tooltip: { formatter: '@fn:tip' },
    grid: { left: 50, right: 30, top: 80, bottom: 50 },
    xAxis: { type: 'value', name: 'seconds, created → ended', nameLocation: 'middle', nameGap: 28, scale: true },
    yAxis: { type: 'value', name: 'batches', minInterval: 1 },
    series: [
      {
        type: 'custom',
        name: 'batches',
        renderItem: '@fn:histogramBar',
        itemStyle: { color: '#4e79a7' },
        encode: { x: [0, 1], y: 2 },
        data: l.bins.map((b) => ({
          value: [b.fromMs / 1_000, b.toMs / 1_000, b.count],
          tip: `${count(b.count)} batches took ${span(b.fromMs)} to ${span(b.toMs)}`,
        })),
        markLine: { symbol: 'none', silent: true, lineStyle: { color: '#d62728', type: 'dashed' }, data: marks },
      },
    ],
  };
}

export function doneChart(d: ReportData): Option {
  const { min, max } = timeRange(d);
  const total = d.summary.requests;
  return {
    title: { text: `Requests done over time (of ${count(total)})` },
    tooltip: { trigger: 'axis' },
    legend: { top: 36 },
    grid: { left: 60, right: 30, top: 80, bottom: 40 },
    xAxis: { type: 'time', min, max },
    yAxis: { type: 'value', max: total, minInterval: 1 },
    series: [
      {
        type: 'line',
        name: 'done (succeeded + failed)',
        step: 'end',
        showSymbol: false,
        data: [[d.startedAtMs, 0], ...d.done.map((p) => [p.atMs, p.done])],
        markLine: { symbol: 'none', silent: true, data: slaLines(d) },
      },
      {
        type: 'line',
        name: 'succeeded',
        step: 'end',
        showSymbol: false,
        itemStyle: { color: STATUS_COLORS.succeeded },
        data: [[d.startedAtMs, 0], ...d.done.map((p) => [p.atMs, p.succeeded])],
      },
    ],
  };
}

/** Bars of what requests cost, by model and mode, next to what they would have cost synchronously; stacked by token kind. */
export function costChart(d: ReportData): Option {
  const bars: { label: string; byKind: Record<(typeof TOKEN_KINDS)[number], number> }[] = [];
  const models = [...new Set(d.outcomes.costRows.map((r) => r.model))];
  for (const model of models) {
    const rows = d.outcomes.costRows.filter((r) => r.model === model);
    for (const r of rows) bars.push({ label: `${model}\n${r.mode}`, byKind: r.usd });
    const syncEq = rows.reduce(
      (acc, r) => Object.fromEntries(TOKEN_KINDS.map((k) => [k, acc[k] + r.syncEquivalentUsd[k]])) as typeof acc,
      { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 },
    );
    bars.push({ label: `${model}\nat synchronous prices`, byKind: syncEq });
  }
  return {
    title: { text: `Cost ${usd(d.summary.costUsd)}; synchronously ${usd(d.summary.syncEquivalentUsd)}` },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 36 },
    grid: { left: 80, right: 30, top: 80, bottom: 60 },
    xAxis: { type: 'category', data: bars.map((b) => b.label), axisLabel: { interval: 0 } },
    yAxis: { type: 'value', name: 'USD' },
    series: TOKEN_KINDS.map((kind, i) => ({
      type: 'bar',
      name: TOKEN_KIND_LABELS[kind],
      stack: 'usd',
      itemStyle: { color: KIND_OF_TOKEN_COLORS[i] },
      data: bars.map((b) => b.byKind[kind]),
      ...(i === TOKEN_KINDS.length - 1
        ? {
            label: { show: true, position: 'top', formatter: '@fn:barTotal', color: '#333' },
            totals: bars.map((b) => usd(sumByKind(b.byKind))),
          }
        : {}),
    })),
  };
}

export function failuresChart(d: ReportData): Option {
  const groups = d.outcomes.failures;
  const failed = groups.reduce((a, g) => a + g.count, 0);
  return {
    title: {
      text: failed
        ? `Requests without success, by error type: ${count(failed)}`
        : 'No failures: every request succeeded',
    },
    tooltip: { formatter: '@fn:tip' },
    grid: { left: 170, right: 60, top: 50, bottom: 30 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', inverse: true, data: groups.map((g) => g.type) },
    series: [
      {
        type: 'bar',
        name: 'requests',
        itemStyle: { color: STATUS_COLORS.failed },
        label: { show: true, position: 'right' },
        data: groups.map((g) => ({
          value: g.count,
          itemStyle: { color: STATUS_COLORS[g.status] },
          tip: `${g.type} (${g.status}): ${count(g.count)}\ne.g. ${g.examples.join(', ')}`,
        })),
      },
    ],
  };
}

/** Requests by the attempts they took (stacked by outcome), and how many were sent as each attempt. */
export function attemptsChart(d: ReportData): Option {
  const taken = Object.keys(d.outcomes.byAttempts).map(Number);
  const most = Math.max(0, ...taken);
  // Every attempt from 1 to the most taken, so "sent as attempt k" shows for each k; 0 only if some were never sent.
  const attempts = [...(taken.includes(0) ? [0] : []), ...Array.from({ length: most }, (_, i) => i + 1)];
  const statuses = (['succeeded', 'invalid_output', 'failed', 'canceled', 'sla_missed', 'not_run'] as const).filter((s) =>
    attempts.some((a) => (d.outcomes.byAttempts[String(a)]?.[s] ?? 0) > 0),
  );
  const sentAs = new Map(d.retriesByAttempt.map((r) => [r.attempt, r.requests]));
  const firstSent = attempts.filter((a) => a >= 1).reduce((n, a) => n + sum(d.outcomes.byAttempts[String(a)]), 0);
  return {
    title: { text: `Attempts: ${count(d.retriesByAttempt.reduce((n, r) => n + r.requests, 0))} retries` },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 36 },
    grid: { left: 60, right: 30, top: 80, bottom: 40 },
    xAxis: { type: 'category', data: attempts.map((a) => (a === 0 ? 'never sent' : `attempt ${a}`)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      ...statuses.map((s) => ({
        type: 'bar',
        name: `took this many: ${s}`,
        stack: 'took',
        itemStyle: { color: STATUS_COLORS[s] },
        data: attempts.map((a) => d.outcomes.byAttempts[String(a)]?.[s] ?? 0),
      })),
      {
        type: 'bar',
        name: 'sent as this attempt',
        itemStyle: { color: '#4e79a7' },
        label: { show: true, position: 'top' },
        data: attempts.map((a) => (a === 0 ? 0 : a === 1 ? firstSent : (sentAs.get(a) ?? 0))),
      },
    ],
  };
}

function sum(counts: Partial<Record<string, number>> | undefined): number {
  return Object.values(counts ?? {}).reduce((a: number, b) => a + (b ?? 0), 0);
}
