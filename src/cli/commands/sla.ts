/** `sluice sla 30h`: the SLA window rule worked out, for a user choosing a schedule; `--window learned` with the model. */
import type { Command } from 'commander';
import { learnWindow } from '../../store/batch-timings';
import { loadConfig } from '../../config';
import { formatDuration, parseDuration } from '../../domain/duration';
import { quantileName, type LatencyModel } from '../../domain/latency-model';
import { latestBatchSubmissionMs, MARGIN_MS, slaPlan, WINDOW_MS } from '../../domain/sla';
import { createStore } from '../../store';

export function registerSlaCommand(program: Command) {
  program
    .command('sla')
    .description('show how often to submit and the latest batch submission for an SLA (e.g. 30h)')
    .argument('<sla>', 'time from submission until all results are due, e.g. 30h')
    .option('--window <duration|learned>', 'batch processing window W, or "learned" from the batches in the store', '24h')
    .option('--margin <duration>', 'margin M kept after the window', '2h')
    .action(async (sla: string, opts: { window: string; margin: string }) => {
      if (opts.window.trim().toLowerCase() !== 'learned') return console.log(describeSla(sla, opts.window, opts.margin, Date.now()));
      const slaMs = parseDuration(sla, 'sla');
      const marginMs = parseDuration(opts.margin, '--margin');
      const config = loadConfig();
      const store = createStore(config);
      try {
        const nowMs = Date.now();
        const model = await learnWindow(store, { fixedWindowMs: WINDOW_MS, nowMs, apiTimeScale: config.SLUICE_API_TIME_SCALE });
        console.log(describeLearnedSla(slaMs, marginMs, model, nowMs));
      } finally {
        await store.close();
      }
    });
}

export function describeSla(sla: string, window: string, margin: string, nowMs: number): string {
  const slaMs = parseDuration(sla, 'sla');
  const windowMs = window ? parseDuration(window, '--window') : WINDOW_MS;
  const marginMs = margin ? parseDuration(margin, '--margin') : MARGIN_MS;
  const plan = slaPlan({ slaMs, nowMs, windowMs, marginMs });
  return [
    `SLA ${formatDuration(slaMs)} with a batch window of ${formatDuration(windowMs)} and a margin of ${formatDuration(marginMs)}:`,
    `  submit every          ${formatDuration(plan.periodMs)}   (SLA − window − margin)`,
    `  work starting now     due ${new Date(plan.deadlineMs).toISOString()}`,
    `  latest batch at       ${new Date(plan.latestSubmissionMs).toISOString()}   (later work goes to the synchronous API)`,
    `  margin                ${formatDuration(marginMs)} after the window, to collect and retry`,
  ].join('\n');
}

/** The model behind a learned window, then the rule worked out with it (or why no batch can be trusted). */
export function describeLearnedSla(slaMs: number, marginMs: number, model: LatencyModel, nowMs: number): string {
  const duration = (ms: number | null) => (ms === null ? 'beyond the data' : formatDuration(ms));
  const lines = [
    `Learned batch window from ${model.samples} ended batches (${model.records} on record, ${model.censored} canceled before ending)` +
      (model.ageMs === undefined ? ', none seen yet:' : `, newest seen ${formatDuration(model.ageMs)} ago:`),
    `  quantiles             ${model.samples === 0 ? '—' : model.quantiles.map((x) => `${quantileName(x.q)} ${duration(x.ms)}`).join(', ')}`,
    model.source === 'learned'
      ? `  window                ${formatDuration(model.windowMs)}   (${quantileName(model.quantile)}, at least ${formatDuration(model.floorMs)}, at most ${formatDuration(model.fixedWindowMs)})${model.reason ? `: ${model.reason}` : ''}`
      : `  window                ${formatDuration(model.windowMs)}   (fallback to the fixed window: ${model.reason ?? 'no model'})`,
  ];
  const deadlineMs = nowMs + slaMs;
  const latestMs = latestBatchSubmissionMs({ deadlineMs, windowMs: model.windowMs, marginMs });
  const periodMs = slaMs - model.windowMs - marginMs;
  lines.push(`SLA ${formatDuration(slaMs)} with that window and a margin of ${formatDuration(marginMs)}:`);
  if (periodMs <= 0) {
    lines.push(
      `  no batch can be trusted: the SLA does not exceed window + margin (${formatDuration(model.windowMs + marginMs)}); work goes to the synchronous API`,
    );
  } else {
    lines.push(
      `  submit every          ${formatDuration(periodMs)}   (SLA − window − margin)`,
      `  work starting now     due ${new Date(deadlineMs).toISOString()}`,
      `  latest batch at       ${new Date(latestMs).toISOString()}   (later work goes to the synchronous API)`,
    );
  }
  lines.push('  safety net            batches still running when only the time to redo them synchronously is left are canceled and finished synchronously');
  return lines.join('\n');
}
