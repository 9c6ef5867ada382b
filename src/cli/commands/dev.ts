/** `sluice dev`: the embedded stack, up until Ctrl-C, so `sluice run` works from another terminal. */
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { int, number } from '../parse';
import { untilInterrupted } from '../signals';

export interface DevOptions {
  port: number;
  uiPort: number;
  emulatorPort: number;
  timeScale: number;
}

export function registerDevCommand(program: Command) {
  program
    .command('dev')
    .description('start the Temporal dev server with its Web UI, the emulator (without ANTHROPIC_API_KEY) and a worker')
    .option('--port <port>', 'Temporal frontend port', int('--port'), 7233)
    .option('--ui-port <port>', 'Web UI port', int('--ui-port'), 8233)
    .option('--emulator-port <port>', 'emulator port', int('--emulator-port'), 4010)
    .option('--time-scale <x>', 'emulator time compression (0.01: 24 h take 14.4 min)', number('--time-scale'), 0.01)
    .action((opts: DevOptions) => devCommand(opts));
}

export async function devCommand(opts: DevOptions): Promise<void> {
  const cfg = loadConfig();
  // Loaded here, not at the top: the Temporal worker and the emulator are most of the CLI's start-up time.
  const { startDevStackFromConfig } = await import('../../dev/stack.js');
  const stack = await startDevStackFromConfig(cfg, opts, (line) => console.error(line));
  // `sluice run` from this directory finds the ports in .sluice/dev-stack.json; from elsewhere it needs them said.
  const addressNote = opts.port === 7233 ? '' : `  (from another directory: export TEMPORAL_ADDRESS=${stack.temporal.address} SLUICE_WEB_UI=${stack.temporal.uiUrl ?? ''})`;
  console.error(
    [
      '',
      `Sluice dev stack is up. State in ${cfg.SLUICE_STATE_DIR}, store in ${cfg.storeDir}.`,
      `  Web UI    ${stack.temporal.uiUrl}`,
      `  Temporal  ${stack.temporal.address}`,
      ...(stack.emulator ? [`  Emulator  ${stack.emulator.url} (key ${stack.emulator.apiKey})`] : []),
      `In another terminal: npx sluice run examples/demo.jsonl${addressNote}`,
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
  await untilInterrupted(stack.workerDone);
  console.error('Stopping...');
  await stack.stop();
}
