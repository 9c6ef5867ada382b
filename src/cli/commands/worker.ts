/** `sluice worker`: a worker process configured from the environment (production, or beside `sluice dev`). */
import type { Command } from 'commander';

export function registerWorkerCommand(program: Command) {
  program
    .command('worker')
    .description('run a worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, SLUICE_TASK_QUEUE, ANTHROPIC_API_KEY, SLUICE_STORE_DIR, SLUICE_WORKER_MEMORY_MB)')
    .option('--print-config', 'print the memory budget, heap limit and sizes the worker chose, as JSON, and exit without connecting')
    .action(async (o: { printConfig?: boolean }) => {
      // The worker may run as a second process with its own heap limit: its exit code is the command's.
      // Loaded here, not at the top: every other command would pay for the Temporal worker's start-up.
      const { runWorkerFromEnv } = await import('../../worker.js');
      process.exitCode = await runWorkerFromEnv(process.env, { printConfig: o.printConfig === true, setHeapLimit: true });
    });
}
