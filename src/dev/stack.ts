/**
 * The embedded stack for one machine: the Temporal dev server (SQLite under the state directory, Web UI on its
 * port), the Message Batches emulator when no ANTHROPIC_API_KEY is set, and a worker in this process, configured
 * by the same variables as `sluice worker` (payload keys, prices, concurrency, store, queue room). Its addresses
 * are written to the state directory so `sluice run` in another terminal finds the ports in use.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { dataConverterFromEnv } from '../codec';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../emulator';
import type { SluiceConfig } from '../config';
import { ConfigError } from '../domain/errors';
import { SLUICE_HISTOGRAM_BUCKETS } from '../metrics';
import { createStore } from '../store';
import { createIntakeWorker } from '../intake-worker';
import { createSluiceWorker, sluicePluginFor, type SluiceWorkerOptions } from '../worker';
import { startDevServer, type DevServer } from './dev-server';
import { DEV_STACK_FILE, type DevStackRecord } from './stack-record';
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
  /** What the worker takes from the configuration besides connection, key and task queue (see workerSettings). */
  worker?: WorkerSettings;
  /** host:port of a Prometheus endpoint for the worker's metrics. */
  metricsAddress?: string;
  /** SLUICE_INTAKE_TASK_QUEUE: intakes run there, on a second worker beside the first (src/intake-worker.ts). */
  intakeTaskQueue?: string;
  log: (line: string) => void;
}

/** The worker options that SLUICE_* variables set, the same for `sluice worker` and `sluice dev`. */
export type WorkerSettings = Pick<
  SluiceWorkerOptions,
  | 'store'
  | 'activityConcurrency'
  | 'workflowCache'
  | 'maxTaskQueueActivitiesPerSecond'
  | 'prices'
  | 'queueCapacity'
  | 'accountPoll'
  | 'workflowBundlePath'
  | 'dataConverter'
>;


/** The worker settings the environment asks for, checked: a bad SLUICE_PRICES is named, not ignored. */
export function workerSettingsFromConfig(cfg: SluiceConfig, env: NodeJS.ProcessEnv): WorkerSettings {
  let prices: unknown;
  if (cfg.SLUICE_PRICES) {
    try {
      prices = JSON.parse(cfg.SLUICE_PRICES) as unknown;
    } catch (err) {
      throw new ConfigError('SLUICE_PRICES', `is not JSON (${(err as Error).message})`);
    }
  }
  return {
    store: createStore(cfg),
    activityConcurrency: cfg.SLUICE_ACTIVITY_CONCURRENCY,
    workflowCache: cfg.SLUICE_WORKFLOW_CACHE,
    maxTaskQueueActivitiesPerSecond: cfg.SLUICE_TASK_QUEUE_ACTIVITIES_PER_SECOND,
    prices,
    queueCapacity: { maxRequests: cfg.SLUICE_QUEUE_MAX_REQUESTS, maxBatches: cfg.SLUICE_QUEUE_MAX_BATCHES, preempt: cfg.SLUICE_QUEUE_PREEMPT },
    accountPoll: cfg.SLUICE_ACCOUNT_POLL === 'on',
    workflowBundlePath: cfg.SLUICE_WORKFLOW_BUNDLE,
    dataConverter: dataConverterFromEnv(env),
  };
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

export function startDevStackFromConfig(
  cfg: SluiceConfig,
  p: DevStackPorts,
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DevStack> {
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
    worker: workerSettingsFromConfig(cfg, env),
    metricsAddress: cfg.SLUICE_METRICS_ADDRESS,
    intakeTaskQueue: cfg.SLUICE_INTAKE_TASK_QUEUE,
    log,
  });
}

export async function startDevStack(o: DevStackOptions): Promise<DevStack> {
  // The SDK's INFO lines (bundle sizes, state changes) would bury the progress bar; warnings still show.
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: o.metricsAddress
      ? { metrics: { prometheus: { bindAddress: o.metricsAddress, histogramBucketOverrides: SLUICE_HISTOGRAM_BUCKETS } } }
      : undefined,
  });
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
    // The dev server is on this host: gzip would only cost CPU on both ends (src/temporal/grpc-compression.ts).
    const connection = await NativeConnection.connect({ address: temporal.address, grpcCompression: { codec: 'none' } });
    cleanup.unshift(() => connection.close());
    const settings = o.worker ?? {};
    if (settings.store) cleanup.push(() => (settings.store as { close?: () => Promise<void> }).close?.() ?? Promise.resolve());
    const workerOptions: SluiceWorkerOptions = {
      ...settings,
      connection,
      namespace: o.namespace,
      taskQueue: o.taskQueue,
      apiKey,
      baseURL,
      storeDir: o.storeDir,
      webUiUrl: temporal.uiUrl,
      apiTimeScale: emulator?.config.timeScale,
    };
    const plugin = sluicePluginFor(workerOptions);
    const worker = await createSluiceWorker(workerOptions, plugin);
    const intakeWorker = o.intakeTaskQueue ? await createIntakeWorker({ ...workerOptions, intakeTaskQueue: o.intakeTaskQueue }, plugin) : undefined;
    o.log(`Worker on queue ${o.taskQueue}: payload encryption ${settings.dataConverter ? 'on (SLUICE_CODEC_KEYS)' : 'off'}`);
    const record: DevStackRecord = { temporalAddress: temporal.address, webUi: temporal.uiUrl, namespace: o.namespace, pid: process.pid };
    const recordPath = path.join(o.stateDir, DEV_STACK_FILE);
    await mkdir(o.stateDir, { recursive: true, mode: 0o700 });
    await writeFile(recordPath, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
    cleanup.unshift(() => rm(recordPath, { force: true }));
    const workerDone = Promise.all([worker.run(), intakeWorker?.run()]).then(() => undefined);
    return {
      temporal,
      emulator,
      worker,
      workerDone,
      async stop() {
        for (const w of [worker, intakeWorker]) if (w?.getState() === 'RUNNING') w.shutdown();
        await workerDone.catch(() => {});
        for (const step of cleanup) await step().catch(() => {});
      },
    };
  } catch (err) {
    for (const step of cleanup) await step().catch(() => {});
    throw err;
  }
}
