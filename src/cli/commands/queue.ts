/** `sluice queue`, `sluice priority JOB N`, `sluice pause JOB`, `sluice resume JOB`: the shared batch queue. */
import type { Command } from 'commander';
import { pauseJob, queueView, resumeJob, setJobPriority } from '../../client/queue';
import { openContext } from '../context';
import { int } from '../parse';

export function registerQueueCommands(program: Command) {
  program
    .command('queue')
    .description("show the scheduler's view: who holds how much of the batch queue, who waits, and why")
    .option('--json', 'print it as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = await openContext();
      try {
        const view = await queueView(ctx.client, ctx.config.SLUICE_TASK_QUEUE, ctx.patience);
        if (!view) return console.log(`No scheduler runs on task queue ${ctx.config.SLUICE_TASK_QUEUE}: no job has asked for room.`);
        if (opts.json) return console.log(JSON.stringify(view, null, 2));
        console.log(
          `Batch queue of ${ctx.config.SLUICE_TASK_QUEUE}'s API key: ${view.free.requests}/${view.capacity.maxRequests} requests and ` +
            `${view.free.batches}/${view.capacity.maxBatches} batches free`,
        );
        if (view.rebuildingUntilMs !== undefined) {
          console.log(`  the scheduler was started again: it grants nothing until ${new Date(view.rebuildingUntilMs).toISOString()}, while jobs refresh`);
        }
        for (const j of view.jobs) {
          const why = j.state === 'preempted' ? ` (stepped aside for ${j.preemptedBy})` : '';
          console.log(
            `  ${j.jobId}  priority ${j.priority}  ${j.state}${why}  holds ${j.held.requests} requests / ${j.held.batches} batches, waits for ${j.want.requests}`,
          );
        }
      } finally {
        await ctx.close();
      }
    });

  program
    .command('priority')
    .description("change a running job's priority (1 is most urgent); it counts from the next grant")
    .argument('<job>', 'the workflow id')
    .argument('<priority>', 'a whole number ≥ 1', int('priority'))
    .action(async (job: string, priority: number) => withClient((c) => setJobPriority(c, job, priority), `${job} now has priority ${priority}.`));

  program
    .command('pause')
    .description('stop a job submitting new batches (batches in flight finish); `sluice resume` goes on')
    .argument('<job>', 'the workflow id')
    .action(async (job: string) => withClient((c) => pauseJob(c, job), `${job} is paused.`));

  program
    .command('resume')
    .description('let a paused job submit again')
    .argument('<job>', 'the workflow id')
    .action(async (job: string) => withClient((c) => resumeJob(c, job), `${job} resumes.`));
}

async function withClient(fn: (client: Awaited<ReturnType<typeof openContext>>['client']) => Promise<void>, done: string) {
  const ctx = await openContext();
  try {
    await fn(ctx.client);
    console.log(done);
  } finally {
    await ctx.close();
  }
}
