/** `sluice sla 30h`: the SLA window rule worked out, for a user choosing a schedule. */
import type { Command } from 'commander';
import { formatDuration, parseDuration } from '../../domain/duration';
import { MARGIN_MS, slaPlan, WINDOW_MS } from '../../domain/sla';

export function registerSlaCommand(program: Command) {
  program
    .command('sla')
    .description('show how often to submit and the latest batch submission for an SLA (e.g. 30h)')
    .argument('<sla>', 'time from submission until all results are due, e.g. 30h')
    .option('--window <duration>', 'batch processing window W', '24h')
    .option('--margin <duration>', 'margin M kept after the window', '2h')
    .action((sla: string, opts: { window: string; margin: string }) => {
      console.log(describeSla(sla, opts.window, opts.margin, Date.now()));
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
