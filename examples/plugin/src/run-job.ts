// A Sluice job from client code: validate and store the input, start the job, wait for its summary.
import { Client, Connection } from '@temporalio/client';
import { LocalDirectoryStore, startJob, waitForJob } from 'sluice';

async function main() {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const client = new Client({ connection });
  const store = new LocalDirectoryStore(process.env.SLUICE_STORE_DIR ?? '.sluice/store');
  const { workflowId } = await startJob({
    client,
    store,
    taskQueue: process.env.TASK_QUEUE ?? 'digests',
    file: process.argv[2] ?? 'prompts.jsonl',
    defaults: { model: 'claude-haiku-4-5', max_tokens: 128 },
    options: { poll: { initialMs: 1_000 } }, // a small job: look every second at first (the default is 30 s)
  });
  const summary = await waitForJob(client, workflowId);
  console.log(JSON.stringify({ workflowId, requests: summary.requests, succeeded: summary.outcomes.succeeded }));
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
