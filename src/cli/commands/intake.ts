/** `sluice intake create|list|status` and `sluice enqueue NAME FILE|-`: requests that arrive over time. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Option, type Command } from 'commander';
import { createIntake, enqueue, intakeStatus, type IntakeRequest } from '../../client/intake';
import { formatDuration } from '../../domain/duration';
import { TIERS, type IntakeOptionsInput, type Tier } from '../../domain/intake';
import { UsageError } from '../errors';
import { openContext } from '../context';
import { int, usd } from '../parse';

const ENQUEUE_CHUNK = 500;

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
        const id = await createIntake({ client: ctx.client, taskQueue: ctx.config.SLUICE_TASK_QUEUE, intake: name, options });
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
          const st = await intakeStatus(ctx.client, name);
          const d = st.depthByTier;
          console.log(`${name}: waiting ${d.bulk} bulk, ${d.standard} standard, ${d.urgent} urgent; ${st.requestsInFlight} in flight; ${st.counters.succeeded} done`);
        }
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
        const st = await intakeStatus(ctx.client, name);
        if (opts.json) return console.log(JSON.stringify(st, null, 2));
        const d = st.depthByTier;
        console.log(
          [
            `Intake ${name}`,
            `  waiting     ${d.bulk} bulk, ${d.standard} standard, ${d.urgent} urgent (oldest ${formatDuration(st.oldestWaitMs)})`,
            `  next cut    ${st.nextCutInMs === undefined ? '—' : `in ${formatDuration(st.nextCutInMs)}`}`,
            `  in flight   ${st.requestsInFlight} requests in ${st.jobsInFlight} sub-batches`,
            `  done        ${st.counters.succeeded} succeeded, ${st.counters.failed} failed (see dead-letter in the store)`,
            `  fill rate   ${(st.fillRate * 100).toFixed(0)} % of ${st.cuts} sub-batches`,
            `  rate        ${st.requestsPerMinute} requests/min; USD ${st.costPerRequestUsd.toFixed(5)} per request`,
          ].join('\n'),
        );
      } finally {
        await ctx.close();
      }
    });

  program
    .command('enqueue')
    .description('add requests to an intake (created on first use); each line {"custom_id", "params", "tier"?, "deadline"?}')
    .argument('<name>', 'the intake')
    .argument('<file>', 'a JSONL file, or - for standard input')
    .action(async (name: string, file: string) => {
      const ctx = await openContext();
      let accepted = 0;
      let other = 0;
      try {
        const target = { client: ctx.client, store: ctx.store, taskQueue: ctx.config.SLUICE_TASK_QUEUE, intake: name };
        let chunk: IntakeRequest[] = [];
        const flush = async () => {
          for (const a of await enqueue(target, chunk)) {
            if (a.status === 'accepted') accepted++;
            else {
              other++;
              console.error(`${a.custom_id}: ${a.status}${a.reason ? ` (${a.reason})` : ''}`);
            }
          }
          chunk = [];
        };
        const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file), crlfDelay: Infinity });
        let n = 0;
        for await (const line of lines) {
          n++;
          if (!line.trim()) continue;
          try {
            chunk.push(JSON.parse(line) as IntakeRequest);
          } catch {
            throw new UsageError(`${file}:${n}: is not valid JSON`);
          }
          if (chunk.length >= ENQUEUE_CHUNK) await flush();
        }
        if (chunk.length) await flush();
        console.log(`${accepted} accepted, ${other} not (see above).`);
      } finally {
        await ctx.close();
      }
    });
}
