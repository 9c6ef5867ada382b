// A job's creates and downloads start on the worker straight from the workflow task that schedules them (eager
// dispatch), not through the server's activity task queue: while the worker has room for them, none is added to the
// queue. Each activity poller the worker keeps open holds one of its slots, and a slot held by a poll cannot be
// reserved for eager dispatch; with the SDK's default of min(10, slots) pollers, a worker with 10 slots sent every
// activity through the queue.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { startJob, waitForJob } from '../src/client/jobs';
import { freePort, startDevServer, type DevServer } from '../src/dev/dev-server';
import { requireTemporalCliPath } from '../src/dev/temporal-cli';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';
import { createSluiceWorker } from '../src/worker';
import { FAST_EMULATOR, writeJobInput } from './helpers/stack';
import { sharedWorkflowBundlePath } from './helpers/workflow-bundle';

let server: DevServer;
let emulator: EmulatorHandle;
let connection: NativeConnection;
let clientConnection: Connection;

before(async () => {
  // The dev server as `sluice dev` and the bench run it: eager activity dispatch on (it is off in the server's defaults).
  server = await startDevServer({ binary: await requireTemporalCliPath({ log: () => {} }), port: await freePort() });
  emulator = await startEmulator({ apiKey: `sk-emulator-${randomUUID()}`, ...FAST_EMULATOR });
  connection = await NativeConnection.connect({ address: server.address });
  clientConnection = await Connection.connect({ address: server.address });
});

after(async () => {
  await clientConnection?.close();
  await connection?.close();
  await emulator?.close();
  await server?.stop();
});

test('with free slots, no create or download of a job goes through the activity task queue', { timeout: 120_000 }, async () => {
  const storeDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-store-'));
  const store = new LocalDirectoryStore(storeDir);
  const taskQueue = `eager-${randomUUID()}`;
  const worker = await createSluiceWorker({
    connection,
    namespace: server.namespace,
    taskQueue,
    apiKey: emulator.apiKey,
    baseURL: emulator.url,
    storeDir,
    workflowBundlePath: await sharedWorkflowBundlePath(),
    // Room for what the job runs at once (two creates, two downloads, the poller's and the scheduler's calls).
    activityConcurrency: 10,
  });
  const client = new Client({ connection: clientConnection, namespace: server.namespace });
  const file = await writeJobInput(24);
  const summary = await worker.runUntil(async () => {
    const { workflowId } = await startJob({
      client,
      store,
      taskQueue,
      file,
      name: 'eager',
      defaults: { model: 'claude-haiku-4-5', max_tokens: 64 },
      options: { batchSize: 2, activityConcurrency: 2, poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } },
    });
    return waitForJob(client, workflowId);
  });
  assert.equal(summary.outcomes.succeeded, 24);

  const queue = await client.workflowService.describeTaskQueue({
    namespace: server.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    reportStats: true,
  });
  // The server's rate of tasks added to the queue (over its recent window): zero when every activity was eager.
  assert.equal(queue.stats?.tasksAddRate ?? 0, 0, `activities went through the task queue: ${JSON.stringify(queue.stats)}`);
});
