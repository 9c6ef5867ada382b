/** `sluice worker`: a worker process configured from the environment (production, or beside `sluice dev`). */
import type { Command } from 'commander';
import { runWorkerFromEnv } from '../../worker';

export function registerWorkerCommand(program: Command) {
  program
    .command('worker')
    .description('run a worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, SLUICE_TASK_QUEUE, ANTHROPIC_API_KEY, SLUICE_STORE_DIR)')
    .action(() => runWorkerFromEnv());
}
