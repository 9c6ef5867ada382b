/** `sluice intake create|list|status|flush|request`: named intakes, requests that arrive over time (enqueue.ts adds them). */
import { Option, type Command } from 'commander';
import { createIntake, flushIntake, intakeRequest, intakeStatus } from '../../client/intake';
import { formatDuration } from '../../domain/duration';
import { TIERS, type IntakeOptionsInput, type Tier } from '../../domain/intake';
import { describeWaits } from '../../domain/intake-wording';
import { openContext } from '../context';
import { int, usd } from '../parse';

export function registerIntakeCommands(program: Command) {
  const intake = program.command('intake').description('named intakes: requests that arrive over time, sent in sub-batches by size or SLA window');
  intake
    .command('create')
    .argument('<name>', 'letters, digits, _ and -')
    .addOption(new Option('--tier <tier>', 'tier of requests that name none (default bulk)').choices([...TIERS]))
    .option('--batch-size <n>', 'requests per sub-batch (default 100)', int('--batch-size'))
    .option('--max-buffered <n>', 'requests waiting at most before enqueue answers "queue full" (default 10000)', int('--max-buffered'))
    .option('--budget <usd>', 'hard ceiling in USD for each sub-batch job the intake cuts (per job, not per day)', usd('--budget'))
    .addOption(
      new Option('--window <window>', "window the cut sub-batches plan with: their tier's (fixed) or learned from this account's batches").choices([
        'fixed',
        'learned',
      ]),
    )
    .action(async (name: string, opts: { tier?: Tier; batchSize?: number; maxBuffered?: number; window?: 'fixed' | 'learned'; budget?: number }) => {
      const options: IntakeOptionsInput = {
        defaultTier: opts.tier,
        batchSize: opts.batchSize,
        maxBuffered: opts.maxBuffered,
        window: opts.window,
        ...(opts.budget === undefined ? {} : { job: { budgetUsd: opts.budget } }),
      };
      const ctx = await openContext();
      try {
        const id = await createIntake({ client: ctx.client, taskQueue: ctx.config.SLUICE_TASK_QUEUE, intakeTaskQueue: ctx.config.SLUICE_INTAKE_TASK_QUEUE, intake: name, options });
        console.log(`Intake ${name} is running (${id}). Web UI: ${ctx.uiLink(id)}`);
      } finally {
        await ctx.close();
      }
    });
  intake
    .command('list')
    .description('the intakes and how much waits in each')
    .action(async () => {
      const ctx = await openContext();
      try {
        for await (const wf of ctx.client.workflow.list({ query: `WorkflowType = "sluiceIntake" AND ExecutionStatus = "Running"` })) {
          const name = wf.workflowId.replace(/^sluice-intake-/, '');
          const st = await intakeStatus(ctx.client, name, ctx.patience);
          const d = st.depthByTier;
          console.log(`${name}: waiting ${d.bulk} bulk, ${d.standard} standard, ${d.urgent} urgent; ${st.requestsInFlight} in flight; ${st.counters.succeeded} done`);
        }
      } finally {
        await ctx.close();
      }
    });
  intake
    .command('flush')
    .description('cut everything waiting into sub-batches now, whatever its tier')
    .argument('<name>')
    .action(async (name: string) => {
      const ctx = await openContext();
      try {
        const { requests } = await flushIntake(ctx.client, name);
        console.log(requests ? `Intake ${name}: ${requests} waiting requests are being cut into sub-batches now.` : `Intake ${name}: nothing waits.`);
      } finally {
        await ctx.close();
      }
    });
  intake
    .command('status')
    .argument('<name>')
    .option('--json', 'print it as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const ctx = await openContext();
      try {
        const st = await intakeStatus(ctx.client, name, ctx.patience);
        if (opts.json) return console.log(JSON.stringify(st, null, 2));
        const d = st.depthByTier;
        // The query's own clock is the workflow's last step: times are absolute, remaining is reckoned here.
        const now = Date.now();
        const nextCutAt = st.waits?.length ? Math.min(...st.waits.map((w) => w.cutAtMs)) : undefined;
        const nextCut = nextCutAt !== undefined ? Math.max(0, nextCutAt - now) : st.nextCutInMs;
        console.log(
          [
            `Intake ${name}`,
            `  waiting     ${d.bulk} bulk, ${d.standard} standard, ${d.urgent} urgent (oldest ${formatDuration(st.oldestWaitMs)})`,
            `  next cut    ${nextCut === undefined ? '—' : `in ${formatDuration(nextCut)}`}`,
            ...describeWaits(st, now).map((line) => `    ${line}`),
            // Cutting many (intake-cut-many), a child job holds several sub-batches: count jobs, not sub-batches.
            `  in flight   ${st.requestsInFlight} requests in ${st.jobsInFlight} ${st.maxCutRequests !== undefined ? 'jobs' : 'sub-batches'}`,
            `  done        ${st.counters.succeeded} succeeded, ${st.counters.failed} failed (see dead-letter in the store)`,
            `  fill rate   ${(st.fillRate * 100).toFixed(0)} % of ${st.subBatches ?? st.cuts} sub-batches${st.subBatches !== undefined ? ` in ${st.cuts} jobs` : ''}`,
            `  rate        ${st.requestsPerMinute} requests/min; USD ${st.costPerRequestUsd.toFixed(5)} per request`,
          ].join('\n'),
        );
      } finally {
        await ctx.close();
      }
    });

  intake
    .command('request')
    .description("where one request is: buffered, in which sub-batch job, or done with its outcome")
    .argument('<name>')
    .argument('<custom_id>')
    .option('--json', 'print it as JSON, with the outcome line once done')
    .action(async (name: string, customId: string, opts: { json?: boolean }) => {
      const ctx = await openContext();
      try {
        // The record in the store answers (the workflow keeps no ids); intakes from before it answer from memory.
        const r = await intakeRequest(ctx.client, ctx.store, name, customId, ctx.patience);
        if (opts.json) return console.log(JSON.stringify(r, null, 2));
        const where =
          r.state === 'buffered'
            ? `buffered (${r.tier ?? '?'}), waiting for its sub-batch`
            : r.state === 'in_flight'
              ? `in sub-batch job ${r.jobId ?? '?'}`
              : r.state === 'done'
                ? `done in job ${r.jobId ?? '?'}: ${r.outcome?.status ?? 'no outcome'}`
                : 'not known to this intake (never accepted, or its records were cleaned)';
        console.log(`Intake ${name}, ${customId}: ${where}`);
      } finally {
        await ctx.close();
      }
    });
}
