/** `sluice report JOB [--out DIR]`: the job report (docs/report.md), one HTML page drawn from the store's records. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../domain/errors';
import { withPriceOverrides, type PriceTable } from '../../domain/prices';
import { buildJobReport, JobNotFinishedError } from '../../report';
import { openContext } from '../context';
import { UsageError } from '../errors';

export function registerReportCommand(program: Command) {
  program
    .command('report')
    .description("write a finished job's report: timeline, latency, cost and failures as one HTML page")
    .argument('<job>', 'the workflow id that `sluice run` printed')
    .option('--out <dir>', 'target directory (default out/<job>)')
    .action(async (job: string, opts: { out?: string }) => {
      const ctx = await openContext();
      try {
        const html = await buildJobReport({
          store: ctx.store,
          jobId: job,
          prices: pricesOf(ctx.config.SLUICE_PRICES),
          client: ctx.client,
          webUiLink: ctx.uiLink(job),
        }).catch((err: unknown) => {
          throw err instanceof JobNotFinishedError ? new UsageError(err.message) : err;
        });
        const outDir = path.resolve(opts.out ?? path.join('out', job));
        await mkdir(outDir, { recursive: true });
        const file = path.join(outDir, 'report.html');
        await writeFile(file, html);
        console.log(file);
      } finally {
        await ctx.close();
      }
    });
}

/** The price table the workers use (SLUICE_PRICES), so the cost chart matches summary.json. */
function pricesOf(json: string | undefined): PriceTable {
  if (json === undefined) return withPriceOverrides({});
  try {
    return withPriceOverrides(JSON.parse(json) as unknown);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('SLUICE_PRICES', 'is not valid JSON');
  }
}
