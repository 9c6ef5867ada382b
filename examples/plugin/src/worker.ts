// The project's worker: its own workflows and activities, plus Sluice's, added by the plugin in one line.
import { NativeConnection, Worker } from '@temporalio/worker';
import { LocalDirectoryStore } from 'sluice';
import { SluicePlugin } from 'sluice/worker';
import * as activities from './activities';

async function main() {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const sluice = new SluicePlugin({
    store: new LocalDirectoryStore(process.env.SLUICE_STORE_DIR ?? '.sluice/store'),
    anthropic: { apiKey: process.env.ANTHROPIC_API_KEY ?? '', baseURL: process.env.ANTHROPIC_BASE_URL },
  });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TASK_QUEUE ?? 'digests',
    workflowsPath: require.resolve('./workflows'),
    activities,
    plugins: [sluice],
  });
  process.once('SIGTERM', () => worker.shutdown());
  process.once('SIGINT', () => worker.shutdown());
  console.log('worker running');
  await worker.run();
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
