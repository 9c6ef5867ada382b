/** `sluice status|results|cancel JOB`: look at, fetch from, or stop a job by its workflow id. */
import type { Command } from 'commander';
import { cancelJob, jobProgress } from '../../client/jobs';
import { formatDuration, parseDuration } from '../../domain/duration';
import { intakeResults } from '../../client/intake';
import { UsageError } from '../errors';
import { openContext } from '../context';
import { checkJobId, outDirFor, writeJobOutput } from '../../client/output-files';
import { requestsDone } from '../../domain/outcome-count';
import { canaryText } from '../../domain/canary';

export function registerJobControlCommands(program: Command) {
  program
    .command('status')
    .description("show a job's progress")
    .argument('<job>', 'the workflow id that `sluice run` printed')
    .option('--json', 'print the progress as JSON')
    .action(async (job: string, opts: { json?: boolean }) => {
      checkJobId(job);
      const ctx = await openContext();
      try {
        const p = await jobProgress(ctx.client, job, ctx.patience);
        if (opts.json) return console.log(JSON.stringify(p, null, 2));
        const r = p.requests;
        console.log(
          [
            `${job}: ${p.phase}${p.heldReason ? ` (${p.heldReason})` : ""}${p.phase === 'stopped' && p.canary?.state === 'stopped' ? ' (stopped by canary)' : ''}, priority ${p.priority}`,
            `  done       ${requestsDone(r)}/${r.total} (${r.succeeded} succeeded, ${r.failed} failed, ${r.invalidOutput ? `${r.invalidOutput} invalid_output, ` : ''}${r.canceled} canceled, ${r.slaMissed} sla_missed)`,
            ...(p.canary ? [`  canary     ${canaryText(p.canary)}`] : []),
            `  in flight  ${r.inFlight} requests in ${p.batches.inFlight} batches; ${r.notYetSubmitted} not yet sent; ${r.waitingToRetry} to retry`,
            `  cost       $${p.costUsd.toFixed(4)} so far (sync: $${p.syncEquivalentUsd.toFixed(4)})`,
            ...(p.budget
              ? [`  budget     $${p.budget.limitUsd.toFixed(4)}: $${p.budget.spentUsd.toFixed(4)} spent, $${p.budget.reservedUsd.toFixed(4)} reserved${p.heldReason === 'budget' ? ' — held: raise it with `sluice budget ' + job + ' USD`' : ''}`]
              : []),
            `  ETA        ${p.etaMs === undefined ? '—' : formatDuration(p.etaMs)}`,
            ...(p.error ? [`  error      ${p.error}`] : []),
            `  Web UI     ${ctx.uiLink(job)}`,
          ].join('\n'),
        );
      } finally {
        await ctx.close();
      }
    });

  program
    .command('results')
    .description("copy a finished job's results.jsonl, failures.jsonl and summary.json (or print an intake's results)")
    .argument('[job]', 'the workflow id')
    .option('--out <dir>', 'target directory (default out/<job>)')
    .option('--intake <name>', "print the results of an intake's finished sub-batches as JSONL")
    .option('--since <duration>', 'with --intake: only sub-batches started this long ago or later, e.g. 24h')
    .action(async (job: string | undefined, opts: { out?: string; intake?: string; since?: string }) => {
      if (!job && !opts.intake) throw new UsageError('name a job, or --intake NAME');
      if (job) checkJobId(job);
      const ctx = await openContext();
      try {
        if (opts.intake) {
          const sinceMs = opts.since ? Date.now() - parseDuration(opts.since, '--since') : 0;
          for await (const line of intakeResults(ctx.client, ctx.store, opts.intake, sinceMs)) console.log(JSON.stringify(line));
          return;
        }
        const written = await writeJobOutput(ctx.store, job!, outDirFor(job!, opts.out));
        console.log(written.join('\n'));
      } finally {
        await ctx.close();
      }
    });

  program
    .command('cancel')
    .description('cancel a job: its batches in flight are canceled, results so far are kept')
    .argument('<job>', 'the workflow id')
    .action(async (job: string) => {
      checkJobId(job);
      const ctx = await openContext();
      try {
        await cancelJob(ctx.client, job);
        console.log(`Cancel sent to ${job}; it writes its output with what it has.`);
      } finally {
        await ctx.close();
      }
    });
}
