// Starts the project's own workflow, which runs a Sluice job as its child, and prints what it returned.
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { nightlyDigest } from './workflows';

async function main() {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const client = new Client({ connection });
  const workflowId = `nightly-digest-${Date.now()}`;
  const result = await client.workflow.execute<typeof nightlyDigest>('nightlyDigest', {
    taskQueue: process.env.TASK_QUEUE ?? 'digests',
    workflowId,
    args: [{ file: path.resolve(process.argv[2] ?? 'prompts.jsonl') }],
  });
  console.log(JSON.stringify({ workflowId, ...result }));
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
