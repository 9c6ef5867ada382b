// `npm run stack`: Sluice in production shape on this machine, without Docker, up until Ctrl-C
// (src/dev/cluster/production-stack.ts; docs/production.md). Then, from another terminal:
//   set -a; . .sluice/stack/env; set +a; npx sluice run examples/demo.jsonl
import { Command, CommanderError } from 'commander';
import { int, number } from '../src/cli/parse';
import { untilInterrupted } from '../src/cli/signals';
import { startProductionStack } from '../src/dev/cluster/production-stack';

async function main(): Promise<number> {
  const program = new Command()
    .name('npm run stack --')
    .description('PostgreSQL, the full Temporal server, the Web UI, the codec server and N Sluice workers (plus the emulator without ANTHROPIC_API_KEY)')
    .option('--workers <n>', 'worker processes', int('--workers'), 3)
    .option('--dir <dir>', 'state directory (PostgreSQL data, server config, logs, env file)', '.sluice/stack')
    .option('--postgres <url>', 'use this PostgreSQL (a superuser URL) instead of starting one in --dir')
    .option('--time-scale <x>', 'emulator time compression (0.01: 24 h take 14.4 min)', number('--time-scale'), 0.01)
    .option('--no-ui', 'do not start the Web UI')
    .exitOverride();
  try {
    program.parse(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const opts = program.opts<{ workers: number; dir: string; postgres?: string; timeScale: number; ui: boolean }>();
  if (opts.workers < 1) {
    console.error('error: --workers must be at least 1');
    return 2;
  }
  const log = (line: string) => console.error(line);
  // Ctrl-C while starting: let the step under way finish, then stop what was started (no orphaned servers).
  let interruptedEarly = false;
  const early = () => {
    interruptedEarly = true;
    log('Interrupted: stopping once the current step is done...');
  };
  process.on('SIGINT', early).on('SIGTERM', early);
  const stack = await startProductionStack({
    dir: opts.dir,
    postgresUrl: opts.postgres,
    workers: opts.workers,
    apiKey: process.env.ANTHROPIC_API_KEY || undefined,
    baseURL: process.env.ANTHROPIC_BASE_URL || undefined,
    emulator: { timeScale: opts.timeScale },
    ui: opts.ui,
    log,
  });
  process.off('SIGINT', early).off('SIGTERM', early);
  if (interruptedEarly) {
    await stack.stop();
    return 130;
  }
  console.error(
    [
      '',
      'Sluice stack is up (production shape: full Temporal server on PostgreSQL, separate worker processes).',
      `  Temporal      ${stack.env.TEMPORAL_ADDRESS} (namespace ${stack.env.TEMPORAL_NAMESPACE})`,
      `  Web UI        ${stack.ui?.url ?? 'not started'}`,
      `  Codec server  ${stack.codecServer.url}`,
      `  Job store     ${stack.env.SLUICE_STORE}`,
      ...(stack.emulator ? [`  Emulator      ${stack.emulator.url}`] : []),
      `  Workers       ${stack.fleet.workers.length} (pids ${stack.fleet.workers.map((w) => w.child.pid).join(', ')})`,
      `Settings for other terminals: ${stack.envFile}`,
      `  set -a; . ${stack.envFile}; set +a; npx sluice run examples/demo.jsonl`,
      'Ctrl-C stops everything (data stays in the state directory).',
    ].join('\n'),
  );
  await untilInterrupted();
  console.error('Stopping...');
  await stack.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
