/** `sluice schedule create|list|describe|pause|unpause|trigger|delete`: recurring audits on Temporal Schedules. */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { matchInputFiles } from '../../client/snapshot-input';
import {
  createSchedule,
  deleteSchedule,
  describeSchedule,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
  type ScheduleRun,
} from '../../client/schedules';
import type { AuditOptionsInput } from '../../domain/audit';
import { formatDuration, parseDuration } from '../../domain/duration';
import type { JobOptionsInput } from '../../domain/job';
import { OVERLAP_POLICIES, type OverlapPolicy } from '../../domain/schedule';
import { openContext, type CliContext } from '../context';
import { int, usd } from '../parse';
import { addJobShapeOptions, windowFromFlag, WINDOW_FLAG_HELP, type JobShapeFlags } from '../job-flags';

export interface ScheduleCreateOptions extends JobShapeFlags {
  input: string;
  cron?: string;
  every?: string;
  timezone?: string;
  sla?: string;
  window?: string;
  margin?: string;
  priority?: number;
  budget?: number;
  overlap?: string;
  catchupWindow?: string;
  pauseOnFailure?: boolean;
  paused?: boolean;
  note?: string;
  syncFallback?: boolean;
  cancelOrphans?: boolean;
  orphanGrace?: string;
  uncollectedGrace?: string;
  downloadUncollected?: boolean;
}

const overlapChoices = OVERLAP_POLICIES.map((p) => p.toLowerCase().replace(/_/g, '-'));
const toOverlap = (choice: string | undefined): OverlapPolicy | undefined =>
  choice === undefined ? undefined : (choice.toUpperCase().replace(/-/g, '_') as OverlapPolicy);

export function registerScheduleCommands(program: Command) {
  const schedule = program.command('schedule').description('recurring audits on Temporal Schedules: snapshot, job, reconciliation');

  const create = schedule
    .command('create')
    .description('create a schedule that audits INPUT as a job at every run')
    .argument('<name>', 'lower-case letters, digits, dashes; ids are sluice-schedule-<name>, sluice-job-<name>-<time>')
    .requiredOption('--input <path>', 'a JSONL file, a directory of .jsonl files, or a quoted glob, as the worker sees it')
    .option('--cron <expr>', 'when, as cron: "0 2 * * *" is 02:00 every day')
    .option('--every <duration>', 'when, as an interval: 4h, 30m, 3s')
    .option('--timezone <zone>', 'IANA zone for --cron, e.g. Europe/Berlin (default UTC)')
    .option('--sla <duration>', "each run's job is due this long after the run; alone, it sets the cadence to SLA − window − margin")
    .option('--window <duration|learned>', `${WINDOW_FLAG_HELP} (the cadence from --sla alone uses the fixed window)`)
    .option('--margin <duration>', 'margin M kept after the window (default 2h)')
    .option('--priority <n>', '1 is most urgent (default 5; SluicePriority in the Web UI)', int('--priority'))
    .option('--budget <usd>', 'hard ceiling in USD for each run\'s job (per run)', usd('--budget'))
    .addOption(new Option('--overlap <policy>', 'when a run is due while the last one runs (default skip)').choices(overlapChoices))
    .option('--catchup-window <duration>', 'after a server outage, still take runs missed by less than this (default 1h)')
    .option('--no-pause-on-failure', 'keep running after a failed run (default: a failed run pauses the schedule)')
    .option('--paused', 'create it paused: it runs only on trigger until unpaused')
    .option('--note <text>', "a note shown with the schedule's state")
    .option('--no-sync-fallback', 'past the window rule, report requests sla_missed instead of sending them synchronously')
    .option('--cancel-orphans', "cancel batches in progress that Sluice never recorded (default: report them)")
    .option('--orphan-grace <duration>', 'leave unrecorded batches younger than this alone (default 1h)')
    .option('--uncollected-grace <duration>', 'a recorded batch counts as uncollected this long after it ended (default 1h)')
    .option('--no-download-uncollected', 'only report uncollected batches, do not copy their results')
    .action((name: string, opts: ScheduleCreateOptions) => withContext((ctx) => createCommand(ctx, name, opts)));
  addJobShapeOptions(create);

  schedule
    .command('list')
    .description("Sluice's schedules: state, cadence, next run")
    .action(() => withContext(listCommand));

  schedule
    .command('describe')
    .description('a schedule: policies, next runs, recent runs and their outcomes')
    .argument('<name>')
    .option('--json', 'print the description as JSON')
    .action((name: string, opts: { json?: boolean }) => withContext((ctx) => describeCommand(ctx, name, opts)));

  schedule
    .command('pause')
    .description('stop starting runs (a run in progress goes on)')
    .argument('<name>')
    .option('--note <text>', 'why, shown with the state')
    .action((name: string, opts: { note?: string }) =>
      withContext(async (ctx) => {
        await pauseSchedule(ctx.client, name, opts.note);
        console.log(`Paused ${name}.`);
      }),
    );

  schedule
    .command('unpause')
    .description('start runs again at the next due time')
    .argument('<name>')
    .option('--note <text>', 'why, shown with the state')
    .action((name: string, opts: { note?: string }) =>
      withContext(async (ctx) => {
        await unpauseSchedule(ctx.client, name, opts.note);
        console.log(`Unpaused ${name}.`);
      }),
    );

  schedule
    .command('trigger')
    .description('start a run now (also when paused)')
    .argument('<name>')
    .addOption(new Option('--overlap <policy>', 'if a run is in progress (default allow-all: run anyway)').choices(overlapChoices))
    .action((name: string, opts: { overlap?: string }) => withContext((ctx) => triggerCommand(ctx, name, toOverlap(opts.overlap))));

  schedule
    .command('delete')
    .description('delete a schedule; runs in progress go on, reports and jobs stay in the store')
    .argument('<name>')
    .action((name: string) =>
      withContext(async (ctx) => {
        await deleteSchedule(ctx.client, name);
        console.log(`Deleted ${name}.`);
      }),
    );
}

async function withContext(fn: (ctx: CliContext) => Promise<void>): Promise<void> {
  const ctx = await openContext();
  try {
    await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** The audit options the flags say (validated by createSchedule). */
export function auditOptionsFrom(opts: ScheduleCreateOptions): Omit<AuditOptionsInput, 'name'> {
  const duration = (value: string | undefined, flag: string) => (value === undefined ? undefined : parseDuration(value, flag));
  const job: JobOptionsInput = {
    batchSize: opts.batchSize,
    maxAttempts: opts.maxAttempts,
    maxBatchesInFlight: opts.maxInFlight,
    priority: opts.priority,
    budgetUsd: opts.budget,
    sla: { ...windowFromFlag(opts.window), marginMs: duration(opts.margin, '--margin'), syncFallback: opts.syncFallback },
  };
  if (opts.pollInitial || opts.pollCap) {
    const initialMs = duration(opts.pollInitial, '--poll-initial') ?? 30_000;
    job.poll = { initialMs, capMs: duration(opts.pollCap, '--poll-cap') ?? Math.max(initialMs, 300_000), growth: 1.5 };
  }
  const defaults = { model: opts.model, max_tokens: opts.maxTokens, system: opts.system, temperature: opts.temperature };
  return {
    // Workers do not share the CLI's working directory.
    input: path.resolve(opts.input),
    defaults: Object.fromEntries(Object.entries(defaults).filter(([, v]) => v !== undefined)),
    job,
    slaMs: duration(opts.sla, '--sla'),
    reconcile: {
      cancelOrphans: opts.cancelOrphans ?? false,
      orphanGraceMs: duration(opts.orphanGrace, '--orphan-grace'),
      uncollectedGraceMs: duration(opts.uncollectedGrace, '--uncollected-grace'),
      downloadUncollected: opts.downloadUncollected ?? true,
    },
  };
}

async function createCommand(ctx: CliContext, name: string, opts: ScheduleCreateOptions) {
  const audit = auditOptionsFrom(opts);
  const matched = await matchInputFiles(audit.input).catch((err: Error) => {
    console.error(`Warning: ${err.message} on this machine; the worker must see it when a run starts.`);
    return [];
  });
  const created = await createSchedule({
    client: ctx.client,
    taskQueue: ctx.config.SLUICE_TASK_QUEUE,
    name,
    audit,
    cadence: {
      cron: opts.cron,
      everyMs: opts.every === undefined ? undefined : parseDuration(opts.every, '--every'),
      timezone: opts.timezone,
      overlap: toOverlap(opts.overlap),
      catchupWindowMs: opts.catchupWindow === undefined ? undefined : parseDuration(opts.catchupWindow, '--catchup-window'),
      pauseOnFailure: opts.pauseOnFailure,
    },
    paused: opts.paused,
    note: opts.note,
  });
  console.log(created.scheduleId);
  console.error(
    [
      `Created ${name}: ${created.cadence.text}${opts.paused ? ', paused' : ''}.`,
      `  input      ${audit.input}${matched.length ? ` (${matched.length} ${matched.length === 1 ? 'file' : 'files'} here now)` : ''}`,
      `  next runs  ${created.nextRuns.slice(0, 3).map((d) => d.toISOString()).join(', ') || '—'}`,
      `  Web UI     ${scheduleLink(ctx, created.scheduleId)}`,
      ...(created.cadence.kind === 'every' && created.cadence.fromSla && (opts.overlap ?? 'skip') === 'skip'
        ? ['  note       with an SLA cadence a run may still be going when the next is due; --overlap allow-all runs both']
        : []),
    ].join('\n'),
  );
}

async function listCommand(ctx: CliContext) {
  const schedules = await listSchedules(ctx.client);
  if (schedules.length === 0) {
    console.log('No schedules. Create one with: sluice schedule create NAME --input PATH --cron "0 2 * * *"');
    return;
  }
  const rows = schedules.map((s) => [
    s.name,
    s.paused ? 'paused' : 'active',
    s.cadence ?? '—',
    s.nextRun && !s.paused ? s.nextRun.toISOString() : '—',
    s.lastRun ? s.lastRun.workflowId : '—',
  ]);
  printTable(['NAME', 'STATE', 'WHEN', 'NEXT RUN', 'LAST RUN'], rows);
}

async function describeCommand(ctx: CliContext, name: string, opts: { json?: boolean }) {
  const d = await describeSchedule(ctx.client, name);
  if (opts.json) return console.log(JSON.stringify(d, null, 2));
  const runLine = (r: ScheduleRun) => `    ${r.scheduledAt.toISOString()}  ${r.status.padEnd(10)} ${r.workflowId}${r.outcome ? `\n      ${r.outcome}` : ''}`;
  console.log(
    [
      `${d.name} (${d.scheduleId}): ${d.paused ? 'PAUSED' : 'active'}${d.note ? ` — ${d.note}` : ''}`,
      `  when       ${d.cadence ?? '—'}`,
      `  input      ${d.input ?? '—'}`,
      `  policies   overlap ${(d.overlap ?? 'SKIP').toLowerCase()}, catch-up window ${formatDuration(d.catchupWindowMs)}, ` +
        `pause on failure ${d.pauseOnFailure ? 'on' : 'off'}`,
      `  runs       ${d.actionsTaken} taken, ${d.skippedForOverlap} skipped (overlap), ${d.missedCatchupWindow} missed (catch-up window)`,
      `  next runs  ${d.paused ? '— (paused)' : d.nextRuns.slice(0, 5).map((t) => t.toISOString()).join(', ') || '—'}`,
      `  running    ${d.running.join(', ') || '—'}`,
      `  recent runs (oldest first):`,
      ...(d.recentRuns.length ? d.recentRuns.map(runLine) : ['    —']),
      `  Web UI     ${scheduleLink(ctx, d.scheduleId)}`,
    ].join('\n'),
  );
}

async function triggerCommand(ctx: CliContext, name: string, overlap: OverlapPolicy | undefined) {
  const before = (await describeSchedule(ctx.client, name)).actionsTaken;
  await triggerSchedule(ctx.client, name, overlap);
  // The run starts within a moment; show its id when it has.
  for (let i = 0; i < 20; i++) {
    const d = await describeSchedule(ctx.client, name);
    const last = d.recentRuns.at(-1);
    if (d.actionsTaken > before && last) {
      console.log(last.workflowId);
      console.error(`Triggered ${name}. Web UI: ${ctx.uiLink(last.workflowId)}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  console.error(`Triggered ${name}; the run has not shown yet (sluice schedule describe ${name}).`);
}

function scheduleLink(ctx: CliContext, scheduleId: string): string {
  const base = ctx.config.SLUICE_WEB_UI.replace(/\/$/, '');
  return `${base}/namespaces/${encodeURIComponent(ctx.config.TEMPORAL_NAMESPACE)}/schedules/${encodeURIComponent(scheduleId)}`;
}

function printTable(header: string[], rows: string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

