// A `sluice run` following a job rides out a restart of the Temporal server (the dev server on its SQLite file,
// stopped until the command has said it lost the server (past the Temporal client's own retries, about 20 s) and 10 s
// more, then started again on the same port while the job's batch is in flight): the command tries again, writes
// every result and exits 0, as the job itself does. Before, it died with "Failed to get Workflow execution
// history" and an empty --out, and a user who believed it would rerun and pay twice.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { freePort, startDevServer, type DevServer } from '../src/dev/dev-server';
import { requireTemporalCliPath } from '../src/dev/temporal-cli';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import { createSluiceWorker } from '../src/worker';
import { startSluice } from './helpers/cli';
import { uniqueTaskQueue } from './helpers/temporal';
import { sharedWorkflowBundlePath } from './helpers/workflow-bundle';

let dir: string;
let server: DevServer;
let emulator: EmulatorHandle;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let port: number;
let binary: string;
const taskQueue = uniqueTaskQueue('restart');

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-restart-'));
  binary = await requireTemporalCliPath();
  port = await freePort();
  server = await startDevServer({ binary, port, dbFile: path.join(dir, 'temporal.db') });
  // Each batch takes about 8 s of real time: long enough to restart the server under it.
  emulator = await startEmulator({ timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 8_000_000 }, spread: 0 } });
  connection = await NativeConnection.connect({ address: server.address });
  worker = await createSluiceWorker({
    workflowBundlePath: await sharedWorkflowBundlePath(),
    connection,
    namespace: 'default',
    taskQueue,
    apiKey: emulator.apiKey,
    baseURL: emulator.url,
    storeDir: path.join(dir, 'store'),
  });
  running = worker.run();
});
after(async () => {
  worker.shutdown();
  await running.catch(() => {});
  await connection.close();
  await server.stop();
  await emulator.close();
});

async function until(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('sluice run follows its job across a Temporal server restart and writes every result', { timeout: 180_000 }, async () => {
  const input = path.join(dir, 'input.jsonl');
  const lines = Array.from({ length: 4 }, (_, i) => JSON.stringify({ params: { messages: [{ role: 'user', content: `Say ${i}.` }] } }));
  await writeFile(input, lines.join('\n') + '\n');
  const out = path.join(dir, 'out');
  const cli = startSluice(
    ['run', input, '--out', out, '--mode', 'batch', '--model', 'claude-haiku-4-5', '--max-tokens', '16', '--poll-initial', '500ms', '--poll-cap', '1s'],
    { TEMPORAL_ADDRESS: server.address, SLUICE_TASK_QUEUE: taskQueue, SLUICE_STORE_DIR: path.join(dir, 'store'), SLUICE_STATE_DIR: path.join(dir, 'state') },
  );
  await cli.waitFor(/Started sluice-job-/);
  // The batch is in flight once the job polls it: its create is then recorded, so the restart falls mid-batch.
  // (The account's poller lists; a job polling alone retrieves.)
  await until('the job polling its batch', () => emulator.stats().batches === 1 && emulator.stats().calls.retrieve + emulator.stats().calls.list > 0);
  await server.stop();
  await cli.waitFor(/Lost Temporal at 127\.0\.0\.1:\d+; trying again \(the job itself is not affected\)/, 60_000);
  // A real 10 s more on purpose: what is shown is that the command does not give up while the server stays down
  // past the client's own retries, and no event stands for "did not give up"; the emulator's clock cannot stand in
  // for Temporal's.
  await new Promise((r) => setTimeout(r, 30_000 - 20_000));
  server = await startDevServer({ binary, port, dbFile: path.join(dir, 'temporal.db') });
  const r = await cli.done;
  assert.equal(r.code, 0, r.out);
  const results = (await readFile(path.join(out, 'results.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(results.length, 4);
  assert.ok(results.every((l) => (JSON.parse(l) as { status: string }).status === 'succeeded'), results.join('\n'));
});
