/**
 * `sluice demo` (what `npm start` runs): the embedded stack plus a demo job of about 1,000 requests from
 * examples/, with a progress bar, the output on disk, the summary and the Web UI link. In a terminal the stack
 * stays up afterwards so the job can be looked at in the Web UI; Ctrl-C stops everything.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { downloadResults, startJob, waitForJob } from '../../client/jobs';
import { dataConverterFromEnv } from '../../codec';
import { loadConfig } from '../../config';
import { LocalDirectoryStore } from '../../store/local-store';
import { uiLink } from '../context';
import { int, number } from '../parse';
import { followJob } from '../progress-bar';
import { untilInterrupted } from '../signals';
import { printSummary } from '../summary';

export const DEMO_INPUT = path.join(__dirname, '..', '..', '..', 'examples', 'demo.jsonl');

interface DemoOptions {
  input: string;
  out: string;
  port: number;
  uiPort: number;
  emulatorPort: number;
  timeScale: number;
  stay: boolean;
}

export function registerDemoCommand(program: Command) {
  program
    .command('demo')
    .description('run a demo job of ~1,000 requests on the embedded stack (what `npm start` does)')
    .option('--input <file>', 'the job input', DEMO_INPUT)
    .option('--out <dir>', 'output directory', path.join('out', 'demo'))
    .option('--port <port>', 'Temporal frontend port', int('--port'), 7233)
    .option('--ui-port <port>', 'Web UI port', int('--ui-port'), 8233)
    .option('--emulator-port <port>', 'emulator port', int('--emulator-port'), 4010)
    .option('--time-scale <x>', 'emulator time compression', number('--time-scale'), 0.002)
    .option('--no-stay', 'stop the stack as soon as the job is done (the default outside a terminal)')
    .action((opts: DemoOptions) => demoCommand(opts));
}

async function demoCommand(opts: DemoOptions): Promise<void> {
  const cfg = loadConfig();
  const log = (line: string) => console.error(line);
  // Loaded here, not at the top: the Temporal worker and the emulator are most of the CLI's start-up time.
  const { startDevStackFromConfig } = await import('../../dev/stack.js');
  const stack = await startDevStackFromConfig(cfg, opts, log);
  if (stack.emulator) {
    log('\n  ************************************************************************');
    log('  *  DEMO ON THE EMULATOR: no ANTHROPIC_API_KEY, answers are synthetic.  *');
    log('  ************************************************************************\n');
  }
  const connection = await Connection.connect({ address: stack.temporal.address });
  let interrupted = false;
  const interrupt = untilInterrupted().then(() => (interrupted = true));
  try {
    const client = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE, dataConverter: dataConverterFromEnv() });
    const store = new LocalDirectoryStore(cfg.storeDir);
    const { workflowId, prepared } = await startJob({
      client,
      store,
      taskQueue: cfg.SLUICE_TASK_QUEUE,
      file: opts.input,
      name: 'demo',
      defaults: { model: 'claude-haiku-5-5', max_tokens: 256 },
      // Polls matched to the compressed clock of the emulator.
      options: { poll: { initialMs: 500, growth: 1.5, capMs: 3_000 } },
    });
    const link = uiLink(stack.temporal.uiUrl!, cfg.TEMPORAL_NAMESPACE, workflowId);
    log(`Job ${workflowId}: ${prepared.requestCount} requests. Watch it in the Web UI: ${link}`);
    const done = waitForJob(client, workflowId);
    await Promise.race([followJob(client, workflowId, done), interrupt]);
    if (interrupted) return;
    const summary = await done;
    const outDir = path.resolve(opts.out);
    await downloadResults(store, workflowId, outDir);
    printSummary(summary, outDir, link);
    const stay = opts.stay && Boolean(process.stdin.isTTY) && !process.env.CI;
    if (stay && !interrupted) {
      log(`\nThe stack stays up for the Web UI (${stack.temporal.uiUrl}). Ctrl-C stops everything.`);
      await interrupt;
    }
  } finally {
    await connection.close();
    log('Stopping the stack...');
    await stack.stop();
  }
}
