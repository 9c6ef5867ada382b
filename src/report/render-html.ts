/**
 * The job report as one self-contained HTML file: the figures of summary.json, six Apache ECharts charts (the
 * library inlined, so the page opens with no network), and tables of cost, failures, retries and options.
 * Everything shown comes from ReportData: ids, counts, times, error types, models and tokens, never prompt text.
 */
import { readFileSync } from 'node:fs';
import type { ReportData } from '../domain/report-data';
import { sumByKind, TOKEN_KIND_LABELS, TOKEN_KINDS } from '../domain/report-cost';
import { groupTimeline } from '../domain/report-timeline';
import { chartOptions, timelineGroupingNote, type ChartId } from './chart-options';
import { count, isoTime, span, usd } from './format';
import { PAGE_SCRIPT } from './page-script';

let echartsSource: string | undefined;
/** The ECharts browser build, read once from the installed package. */
function echartsScript(): string {
  echartsSource ??= readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
  return echartsSource;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Text safe inside <script>: no "</script" or "<!--" can end it early. */
function inScript(text: string): string {
  return text.replace(/<(?=\/script|!--)/gi, '\\u003c');
}

const CHART_TITLES: Record<ChartId, { heading: string; note: string; height: number }> = {
  timeline: {
    heading: 'Timeline of sub-batches',
    note: 'Each bar is one sub-batch, from the moment the batch was created (or the first synchronous call started) to the moment it ended. Retries and synchronous sub-batches have their own colours; grey bars were canceled by Sluice (stragglers, preemption, or a cancel). The dashed line is the latest batch submission (deadline − window − margin), the solid one the deadline.',
    height: 0,
  },
  latency: {
    heading: 'Batch latency',
    note: 'How long the batches took as the API reports it (created_at to ended_at), with the 50th, 90th and 99th percentiles. Canceled batches are left out.',
    height: 340,
  },
  done: {
    heading: 'Requests done over time',
    note: 'Requests with an answer (succeeded or failed for good), counted when the batch or synchronous sub-batch that answered them ended.',
    height: 340,
  },
  cost: {
    heading: 'Cost',
    note: 'What the requests cost at batch and at synchronous prices, by model and token kind, next to what all of them would have cost through the synchronous API.',
    height: 380,
  },
  failures: {
    heading: 'Failures',
    note: 'Requests that did not succeed, by the API’s error type (or their outcome), with example custom_ids in the table below.',
    height: 300,
  },
  attempts: {
    heading: 'Retries by attempt',
    note: 'How many attempts requests took, by final outcome, and how many requests were sent as each attempt.',
    height: 320,
  },
};

export function renderReportHtml(d: ReportData): string {
  const grouping = groupTimeline(d.timeline);
  const options = chartOptions(d, grouping);
  const timelineHeight = Math.min(900, Math.max(260, 90 + Math.min(d.timeline.length, 40) * 18));
  const groupingNote = timelineGroupingNote(grouping);
  const chart = (id: ChartId) => {
    const t = CHART_TITLES[id];
    const grouped =
      id === 'timeline' && groupingNote
        ? `<p class="note" id="timeline-grouping">${escapeHtml(`${groupingNote}; hover a bar for its sub-batches. The other charts and tables count every sub-batch.`)}</p>`
        : '';
    return `<section class="chart"><h2>${t.heading}</h2><p class="note">${escapeHtml(t.note)}</p>${grouped}
<div id="chart-${id}" class="chart-box" data-chart="${id}" style="height:${id === 'timeline' ? timelineHeight : t.height}px"></div></section>`;
  };
  const title = `Sluice job report: ${d.name}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head>
<body>
<header><h1>${escapeHtml(title)}</h1>
<p>Job <code>${escapeHtml(d.jobId)}</code>${
    d.webUiLink
      ? ` · <a id="web-ui-link" href="${escapeHtml(d.webUiLink)}">open the job in the Temporal Web UI</a>`
      : ''
  } · started ${isoTime(d.startedAtMs)}, finished ${escapeHtml(d.summary.finishedAt)} · report written ${isoTime(d.generatedAtMs)}</p></header>
<main>
${headline(d)}
${chart('timeline')}
<div class="pair">${chart('latency')}${chart('done')}</div>
${chart('cost')}
${costTable(d)}
<div class="pair">${chart('failures')}${chart('attempts')}</div>
${failureTable(d)}
${optionsTable(d)}
</main>
<script id="sluice-chart-options" type="application/json">${inScript(JSON.stringify(options))}</script>
<script>${inScript(echartsScript())}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

/** The figures of summary.json, each cell marked with the field it shows (data-summary="outcomes.failed"). */
function headline(d: ReportData): string {
  const s = d.summary;
  const cell = (field: string, text: string) => `<td data-summary="${field}">${escapeHtml(text)}</td>`;
  const row = (label: string, ...cells: string[]) =>
    `<tr><th>${label}</th>${cells.length === 1 ? cells[0]!.replace('<td', '<td colspan="2"') : cells.join('')}</tr>`;
  const l = d.latency;
  return `<section class="headline"><h2>Summary</h2><div class="pair">
<table><tbody>
${row('requests', cell('requests', count(s.requests)))}
${(['succeeded', 'failed', 'canceled', 'sla_missed', 'not_run', ...(s.outcomes.invalid_output ? (['invalid_output'] as const) : [])] as const).map((k) => row(k, cell(`outcomes.${k}`, count(s.outcomes[k])))).join('\n')}
${row('by batch / synchronously', cell('byMode.batch', count(s.byMode.batch)), cell('byMode.sync', count(s.byMode.sync)))}
${row('batches created', cell('batchesCreated', count(s.batchesCreated)))}
${row('wall time', `<td>${span(s.wallTimeMs)}</td>`)}
</tbody></table>
<table><tbody>
${row('cost', cell('costUsd', usd(s.costUsd)))}
${row('of which batch / synchronous', cell('costByMode.batch', usd(s.costByMode.batch)), cell('costByMode.sync', usd(s.costByMode.sync)))}
${row('all synchronously it would have cost', cell('syncEquivalentUsd', usd(s.syncEquivalentUsd)))}
${row('saved', cell('savedUsd', usd(s.savedUsd)))}
${row('tokens in / out', cell('tokens.input', count(s.tokens.input)), cell('tokens.output', count(s.tokens.output)))}
${row('cache write / read', cell('tokens.cacheCreation', count(s.tokens.cacheCreation)), cell('tokens.cacheRead', count(s.tokens.cacheRead)))}
${row('batch latency p50 / p90 / p99', `<td>${[l.p50Ms, l.p90Ms, l.p99Ms].map((ms) => (ms === undefined ? '—' : span(ms))).join(' / ')}</td>`)}
${d.deadlineMs === undefined ? '' : row('deadline / latest batch submission', `<td>${isoTime(d.deadlineMs)}</td>`, `<td>${isoTime(d.latestBatchSubmissionMs!)}</td>`)}
</tbody></table></div>
${s.unpricedModels.length ? `<p class="warn">Models without a price (tokens counted, cost not): ${escapeHtml(s.unpricedModels.join(', '))}</p>` : ''}
${pricesNote(d)}
</section>`;
}

/** The cost chart is priced again from usage here; say so if the prices differ from those of the worker. */
function pricesNote(d: ReportData): string {
  const charted = d.outcomes.costRows.reduce((a, r) => a + sumByKind(r.usd), 0);
  if (Math.abs(charted - d.summary.costUsd) <= 1e-6 + d.summary.costUsd * 1e-9) return '';
  return `<p class="warn">The cost chart, priced with this process's price table, comes to ${usd(charted)}: the worker's prices (SLUICE_PRICES) differed.</p>`;
}

function costTable(d: ReportData): string {
  const head = `<tr><th>model</th><th>mode</th><th>requests</th>${TOKEN_KINDS.map((k) => `<th>${TOKEN_KIND_LABELS[k]} tokens</th>`).join('')}${TOKEN_KINDS.map((k) => `<th>${TOKEN_KIND_LABELS[k]} USD</th>`).join('')}<th>cost</th><th>at synchronous prices</th></tr>`;
  const rows = d.outcomes.costRows.map(
    (r) =>
      `<tr><td>${escapeHtml(r.model)}</td><td>${r.mode}</td><td>${count(r.requests)}</td>${TOKEN_KINDS.map((k) => `<td>${count(r.tokens[k])}</td>`).join('')}${TOKEN_KINDS.map((k) => `<td>${usd(r.usd[k])}</td>`).join('')}<td>${usd(sumByKind(r.usd))}</td><td>${usd(sumByKind(r.syncEquivalentUsd))}</td></tr>`,
  );
  return `<table id="cost-table" class="wide"><thead>${head}</thead><tbody>${rows.join('\n') || '<tr><td colspan="13">no request succeeded</td></tr>'}</tbody></table>`;
}

function failureTable(d: ReportData): string {
  const rows = d.outcomes.failures.map(
    (g) =>
      `<tr><td>${escapeHtml(g.type)}</td><td>${g.status}</td><td>${count(g.count)}</td><td>${g.examples.map((e) => `<code>${escapeHtml(e)}</code>`).join(' ')}</td></tr>`,
  );
  const retries = d.retriesByAttempt.map((r) => `<tr><td>attempt ${r.attempt}</td><td>${count(r.requests)}</td></tr>`);
  return `<div class="pair"><table id="failure-table"><thead><tr><th>error type</th><th>outcome</th><th>requests</th><th>examples</th></tr></thead>
<tbody>${rows.join('\n') || '<tr><td colspan="4">none</td></tr>'}</tbody></table>
<table id="retry-table"><thead><tr><th>sent again as</th><th>requests</th></tr></thead><tbody>${retries.join('\n') || '<tr><td colspan="2">no retries</td></tr>'}</tbody></table></div>`;
}

function optionsTable(d: ReportData): string {
  if (d.options.length === 0) {
    return `<section><h2>Options</h2><p class="warn">The job's start input could not be read (its workflow history is gone), so its options are not shown.</p></section>`;
  }
  const rows = d.options.map((o) => `<tr><th>${escapeHtml(o.field)}</th><td>${escapeHtml(o.value)}</td></tr>`);
  return `<section><h2>Options</h2><table id="options-table"><tbody>${rows.join('\n')}</tbody></table></section>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:0;background:#f6f7f9}
header{background:#1f2d3d;color:#fff;padding:14px 24px}header h1{margin:0 0 4px;font-size:20px}header a{color:#9cd2ff}
main{padding:12px 24px;max-width:1400px}h2{font-size:16px;margin:18px 0 4px}.note{color:#555;margin:0 0 6px;font-size:13px}
.chart-box{background:#fff;border:1px solid #dde1e6;border-radius:4px}
.pair{display:flex;gap:16px;flex-wrap:wrap}.pair>*{flex:1 1 520px;min-width:0}
table{border-collapse:collapse;background:#fff;margin:8px 0;font-size:13px}th,td{border:1px solid #dde1e6;padding:3px 8px;text-align:left}
td{font-variant-numeric:tabular-nums}table.wide{width:100%}.warn{color:#a15c00}code{font-size:12px}
`;
