/** `sluice setup`: make a Temporal cluster ready for Sluice (idempotent; src/temporal/cluster-setup.ts). */
import type { Command } from 'commander';
import { connectSluiceClient } from '../../client/connect';
import { loadConfig } from '../../config';
import { SetupNeededError } from '../../temporal/cluster-check';
import { formatSetupReport, setupCluster } from '../../temporal/cluster-setup';

export function registerSetupCommand(program: Command) {
  program
    .command('setup')
    .description(
      "register Sluice's search attributes, check the namespace and its retention, and say whether a worker polls the task queue (safe to repeat)",
    )
    .action(async () => {
      const cfg = loadConfig();
      const sluice = await connectSluiceClient(process.env, cfg.temporal);
      try {
        console.log(`Temporal ${cfg.temporal.description}`);
        const report = await setupCluster(sluice.connection, { namespace: cfg.TEMPORAL_NAMESPACE, taskQueue: cfg.SLUICE_TASK_QUEUE });
        for (const line of formatSetupReport(report, cfg.SLUICE_TASK_QUEUE)) console.log(line);
        // Missing attributes that only the operator can add (Temporal Cloud): the cluster is not ready yet.
        if (report.refused.length > 0) {
          throw new SetupNeededError('the search attributes above must be added as shown before jobs can start', 1);
        }
      } finally {
        await sluice.close();
      }
    });
}
