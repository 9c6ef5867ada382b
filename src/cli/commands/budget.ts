/** `sluice budget JOB USD`: a running job's new budget; a job held at its budget goes on. */
import type { Command } from 'commander';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { setJobBudget } from '../../client/jobs';
import { checkJobId } from '../../client/output-files';
import { openContext } from '../context';
import { UsageError } from '../errors';
import { usd } from '../parse';

export function registerBudgetCommand(program: Command) {
  program
    .command('budget')
    .description("set a running job's budget in USD (a job held at its budget goes on)")
    .argument('<job>', 'the workflow id')
    .argument('<usd>', 'the new limit, at least what the job has spent and reserved', usd('USD'))
    .action(async (job: string, limitUsd: number) => {
      checkJobId(job);
      const ctx = await openContext();
      try {
        const b = await setJobBudget(ctx.client, job, limitUsd).catch((err: unknown) => {
          // The job's own refusal (below what is committed, no budget): bad input, said in the job's words.
          if (err instanceof WorkflowUpdateFailedError) throw new UsageError(`${job}: ${err.cause?.message ?? err.message}`, { cause: err });
          throw err;
        });
        console.log(`${job}: budget USD ${b.limitUsd.toFixed(4)} (${b.spentUsd.toFixed(4)} spent, ${b.reservedUsd.toFixed(4)} reserved).`);
      } finally {
        await ctx.close();
      }
    });
}
