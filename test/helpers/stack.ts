/**
 * A Sluice stack for workflow tests: the real dev server (one per test process), the emulator in this
 * process, a store in a temporary directory, and a worker on a task queue of the test's own.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/emulator';
import { LocalDirectoryStore } from '../../src/store/local-store';
import { createSluiceWorker, type SluiceWorkerOptions } from '../../src/worker';
import { testEnv, uniqueTaskQueue } from './temporal';
import { sharedWorkflowBundlePath } from './workflow-bundle';

export interface TestStack {
  emulator: EmulatorHandle;
  store: LocalDirectoryStore;
  storeDir: string;
  taskQueue: string;
  env: Awaited<ReturnType<typeof testEnv>>;
  startWorker(extra?: Partial<SluiceWorkerOptions>): Promise<Worker>;
  close(): Promise<void>;
}

/** Fast, predictable processing: batches end within a second or two of real time. */
export const FAST_EMULATOR: EmulatorOptions = {
  timeScale: 0.001,
  latency: { batch: { kind: 'lognormal', medianMs: 60_000, sigma: 0.3, minMs: 10_000, maxMs: 600_000 } },
};

export async function startStack(emulatorOptions: EmulatorOptions = FAST_EMULATOR): Promise<TestStack> {
  const env = await testEnv();
  // A key of its own: the scheduler is one per API key, and stacks of one test process share a dev server.
  const emulator = await startEmulator({ apiKey: `sk-emulator-${randomUUID()}`, ...emulatorOptions });
  const storeDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-store-'));
  const taskQueue = uniqueTaskQueue('job');
  const workers: Worker[] = [];
  return {
    emulator,
    store: new LocalDirectoryStore(storeDir),
    storeDir,
    taskQueue,
    env,
    async startWorker(extra = {}) {
      const worker = await createSluiceWorker({
        workflowBundlePath: await sharedWorkflowBundlePath(),
        ...extra,
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue,
        apiKey: emulator.apiKey,
        baseURL: emulator.url,
        storeDir,
      });
      workers.push(worker);
      return worker;
    },
    async close() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await emulator.close();
    },
  };
}

/** Writes a JSONL job input of `count` requests; `customId(i)` may return undefined to leave the id out. */
export async function writeJobInput(
  count: number,
  opts: { customId?: (i: number) => string | undefined; prompt?: (i: number) => string } = {},
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-input-'));
  const file = path.join(dir, 'input.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = opts.customId ? opts.customId(i) : `item-${i}`;
    const content = opts.prompt ? opts.prompt(i) : `Summarise document number ${i}.`;
    lines.push(JSON.stringify({ ...(id === undefined ? {} : { custom_id: id }), params: { messages: [{ role: 'user', content }] } }));
  }
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

export async function readJsonl<T>(file: string): Promise<T[]> {
  const { readFile } = await import('node:fs/promises');
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}
