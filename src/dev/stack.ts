/**
 * The embedded stack for one machine: the Temporal dev server (SQLite under the state directory, Web UI on its
 * port), the Message Batches emulator when no ANTHROPIC_API_KEY is set, and a worker in this process.
 */
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../emulator';
import type { SluiceConfig } from '../config';
import { createSluiceWorker } from '../worker';
import { startDevServer, type DevServer } from './dev-server';
import { requireTemporalCliPath } from './temporal-cli';

export interface DevStackOptions {
  stateDir: string;
  storeDir: string;
  namespace: string;
  taskQueue: string;
  port: number;
  uiPort: number;
  /** With a key the real API is used and no emulator starts. */
  apiKey?: string;
  baseURL?: string;
  emulatorPort: number;
  emulator?: EmulatorOptions;
  log: (line: string) => void;
}

export interface DevStack {
  temporal: DevServer;
  emulator?: EmulatorHandle;
  worker: Worker;
  /** Settles when the worker stops. */
  workerDone: Promise<void>;
  stop(): Promise<void>;
}

/** Ports and time scale chosen on the command line; everything else from the validated configuration. */
export interface DevStackPorts {
  port: number;
  uiPort: number;
  emulatorPort: number;
  timeScale: number;
}

export function startDevStackFromConfig(cfg: SluiceConfig, p: DevStackPorts, log: (line: string) => void): Promise<DevStack> {
  return startDevStack({
    stateDir: cfg.SLUICE_STATE_DIR,
    storeDir: cfg.storeDir,
    namespace: cfg.TEMPORAL_NAMESPACE,
    taskQueue: cfg.SLUICE_TASK_QUEUE,
    port: p.port,
    uiPort: p.uiPort,
    apiKey: cfg.ANTHROPIC_API_KEY,
    baseURL: cfg.ANTHROPIC_BASE_URL,
    emulatorPort: p.emulatorPort,
    emulator: { timeScale: p.timeScale },
    log,
  });
}

export async function startDevStack(o: DevStackOptions): Promise<DevStack> {
  // The SDK's INFO lines (bundle sizes, state changes) would bury the progress bar; warnings still show.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const binary = await requireTemporalCliPath({ log: o.log });
  const started = Date.now();
  const temporal = await startDevServer({
    binary,
    port: o.port,
    uiPort: o.uiPort,
    namespace: o.namespace,
    dbFile: path.join(o.stateDir, 'temporal.db'),
  });
  o.log(`Temporal dev server on ${temporal.address} (ready in ${Date.now() - started} ms), Web UI ${temporal.uiUrl}`);

  let emulator: EmulatorHandle | undefined;
  let apiKey = o.apiKey;
  let baseURL = o.baseURL;
  const cleanup: (() => Promise<void>)[] = [() => temporal.stop()];
  try {
    if (!apiKey) {
      emulator = await startEmulator({
        ...o.emulator,
        port: o.emulatorPort,
        statePath: path.join(o.stateDir, 'emulator.json'),
      });
      cleanup.unshift(() => emulator!.close());
      apiKey = emulator.apiKey;
      baseURL = emulator.url;
      o.log(
        `No ANTHROPIC_API_KEY: using the EMULATOR at ${emulator.url} (synthetic answers, time ×${emulator.config.timeScale}). Nothing is billed.`,
      );
    } else {
      o.log(`ANTHROPIC_API_KEY is set: requests go to ${baseURL ?? 'the Anthropic API'} and are billed.`);
    }
    const connection = await NativeConnection.connect({ address: temporal.address });
    cleanup.unshift(() => connection.close());
    const worker = await createSluiceWorker({
      connection,
      namespace: o.namespace,
      taskQueue: o.taskQueue,
      apiKey,
      baseURL,
      storeDir: o.storeDir,
      apiTimeScale: emulator?.config.timeScale,
    });
    const workerDone = worker.run();
    return {
      temporal,
      emulator,
      worker,
      workerDone,
      async stop() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerDone.catch(() => {});
        for (const step of cleanup) await step().catch(() => {});
      },
    };
  } catch (err) {
    for (const step of cleanup) await step().catch(() => {});
    throw err;
  }
}
