// `sluice dev` honours the settings `sluice worker` reads: with SLUICE_CODEC_KEYS exported, its worker encrypts and
// decrypts payloads (before, every workflow task failed with "Unknown encoding: binary/encrypted" and the job hung),
// a bad SLUICE_PRICES is refused by name, and the ports it serves on are recorded so CLI links use them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { withDevStackDefaults } from '../src/cli/context';
import { startJob, waitForJob } from '../src/client/jobs';
import { dataConverterFromEnv } from '../src/codec';
import { loadConfig } from '../src/config';
import { ConfigError } from '../src/domain/errors';
import { freePort } from '../src/dev/dev-server';
import { startDevStackFromConfig, workerSettingsFromConfig, type DevStack } from '../src/dev/stack';
import { DEV_STACK_FILE, type DevStackRecord } from '../src/dev/stack-record';
import { LocalDirectoryStore } from '../src/store/local-store';

// Not test/helpers/stack.ts: it installs the Temporal runtime on import, and the dev stack installs its own.
async function threeRequests(dir: string): Promise<string> {
  const file = path.join(dir, 'input.jsonl');
  const line = (i: number) => JSON.stringify({ params: { messages: [{ role: 'user', content: `Say ${i}.` }] } });
  await writeFile(file, [0, 1, 2].map(line).join('\n') + '\n');
  return file;
}

test('a bad SLUICE_PRICES is refused by name, not ignored', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-dev-prices-'));
  const env = { SLUICE_STATE_DIR: dir, SLUICE_PRICES: '{not json' };
  assert.throws(
    () => workerSettingsFromConfig(loadConfig(env), env),
    (err: unknown) => err instanceof ConfigError && err.field === 'SLUICE_PRICES' && /is not JSON/.test(err.message),
  );
});

describe('sluice dev with SLUICE_CODEC_KEYS', () => {
  let stack: DevStack;
  let env: NodeJS.ProcessEnv;
  let stateDir: string;
  before(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-dev-stack-'));
    env = {
      SLUICE_STATE_DIR: stateDir,
      SLUICE_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      SLUICE_ACTIVITY_CONCURRENCY: '4',
      SLUICE_TASK_QUEUE: 'dev-settings',
    };
    const ports = { port: await freePort(), uiPort: await freePort(), emulatorPort: await freePort(), timeScale: 0.001 };
    stack = await startDevStackFromConfig(loadConfig(env), ports, () => {}, env);
  });
  after(() => stack?.stop());

  test('a job from a client with the same keys runs to the end on its worker', { timeout: 120_000 }, async () => {
    const connection = await Connection.connect({ address: stack.temporal.address });
    try {
      const client = new Client({ connection, dataConverter: dataConverterFromEnv(env) });
      const cfg = loadConfig(env);
      const { workflowId } = await startJob({
        client,
        store: new LocalDirectoryStore(cfg.storeDir),
        taskQueue: cfg.SLUICE_TASK_QUEUE,
        file: await threeRequests(stateDir),
        defaults: { model: 'claude-haiku-4-5', max_tokens: 16 },
        options: { sla: { mode: 'sync' } },
      });
      const summary = await waitForJob(client, workflowId);
      assert.equal(summary.outcomes.succeeded, 3);
      // What the server keeps is ciphertext: the worker encrypted with the exported key.
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const encodings = JSON.stringify(history).match(/YmluYXJ5L2VuY3J5cHRlZA==/g) ?? []; // base64 of binary/encrypted
      assert.ok(encodings.length > 0, 'payloads in history are encrypted');
    } finally {
      await connection.close();
    }
  });

  test('its ports are recorded, and the CLI builds Web UI links from them', async () => {
    const record = JSON.parse(await readFile(path.join(stateDir, DEV_STACK_FILE), 'utf8')) as DevStackRecord;
    assert.equal(record.temporalAddress, stack.temporal.address);
    assert.equal(record.webUi, stack.temporal.uiUrl);
    const cliEnv = withDevStackDefaults({ SLUICE_STATE_DIR: stateDir });
    assert.equal(cliEnv.TEMPORAL_ADDRESS, stack.temporal.address);
    assert.equal(cliEnv.SLUICE_WEB_UI, stack.temporal.uiUrl);
    assert.notEqual(cliEnv.SLUICE_WEB_UI, 'http://127.0.0.1:8233');
  });
});
