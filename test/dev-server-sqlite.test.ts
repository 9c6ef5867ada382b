// The embedded dev server keeps its SQLite file in write-ahead-log mode with synchronous=NORMAL
// (DEV_SERVER_SQLITE_PRAGMAS): commits no longer rewrite a rollback journal and flush on every write, and a workflow
// started before the server is killed outright (SIGKILL, no shutdown) is still there when it starts again.
import assert from 'node:assert/strict';
import { mkdtemp, open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { freePort, isPortFree, startDevServer, type DevServer } from '../src/dev/dev-server';
import { requireTemporalCliPath } from '../src/dev/temporal-cli';

let server: DevServer | undefined;
after(async () => server?.stop());

/** Bytes 18 and 19 of an SQLite file's header are 2 in WAL mode, 1 with a rollback journal. */
async function journalVersions(file: string): Promise<[number, number]> {
  const handle = await open(file, 'r');
  try {
    const { buffer } = await handle.read(Buffer.alloc(20), 0, 20, 0);
    return [buffer[18]!, buffer[19]!];
  } finally {
    await handle.close();
  }
}

async function killed(pid: number, host: string, port: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 200 && !(await isPortFree(host, port)); i++) await new Promise((r) => setTimeout(r, 50));
}

test('the dev server file is in WAL mode and keeps a workflow across a SIGKILL', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-sqlite-'));
  const dbFile = path.join(dir, 'temporal.db');
  const binary = await requireTemporalCliPath();
  const port = await freePort();
  server = await startDevServer({ binary, port, dbFile });
  assert.deepEqual(await journalVersions(dbFile), [2, 2]);

  const workflowId = 'kept-across-kill';
  let connection = await Connection.connect({ address: server.address });
  // No worker serves this queue: the workflow only has to exist, started and not closed.
  await new Client({ connection }).workflow.start('NotServedHere', { taskQueue: 'nobody-polls', workflowId });
  await connection.close();
  await killed(server.pid, '127.0.0.1', port);

  server = await startDevServer({ binary, port, dbFile });
  connection = await Connection.connect({ address: server.address });
  try {
    const description = await new Client({ connection }).workflow.getHandle(workflowId).describe();
    assert.equal(description.status.name, 'RUNNING');
  } finally {
    await connection.close();
  }
});
