/**
 * The worker process: reads its configuration from the environment, connects to Temporal and runs Sluice's
 * workflows and activities on one task queue. `createSluiceWorker` is also used by the dev stack and tests.
 */
import Anthropic from '@anthropic-ai/sdk';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadConfig, type SluiceConfig } from './config';
import { ConfigError } from './domain/errors';
import { withPriceOverrides } from './domain/prices';
import { LocalDirectoryStore } from './store/local-store';

export interface SluiceWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  apiKey: string;
  baseURL?: string;
  storeDir: string;
  activityConcurrency?: number;
  workflowCache?: number;
  prices?: unknown;
  /** A prebuilt workflow bundle (production images); otherwise the workflows are bundled at start. */
  workflowBundlePath?: string;
}

export async function createSluiceWorker(o: SluiceWorkerOptions): Promise<Worker> {
  const clientOptions = { apiKey: o.apiKey, baseURL: o.baseURL };
  const activities = createActivities({
    store: new LocalDirectoryStore(o.storeDir),
    anthropic: new Anthropic({ ...clientOptions, maxRetries: 4 }),
    anthropicNoRetry: new Anthropic({ ...clientOptions, maxRetries: 0 }),
    prices: withPriceOverrides(o.prices ?? {}),
  });
  const workflows: Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'> = o.workflowBundlePath
    ? { workflowBundle: { codePath: o.workflowBundlePath } }
    : { workflowsPath: require.resolve('./workflows') };
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    activities,
    ...workflows,
    maxConcurrentActivityTaskExecutions: o.activityConcurrency ?? 32,
    maxCachedWorkflows: o.workflowCache ?? 200,
  });
}

export async function runWorkerFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const cfg: SluiceConfig = loadConfig(env);
  if (!cfg.ANTHROPIC_API_KEY) {
    throw new ConfigError('ANTHROPIC_API_KEY', 'is not set: the worker needs a key (for the emulator, the key it prints)');
  }
  Runtime.install({ logger: new DefaultLogger(sdkLogLevel(cfg.SLUICE_LOG_LEVEL)) });
  const connection = await NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const worker = await createSluiceWorker({
    connection,
    namespace: cfg.TEMPORAL_NAMESPACE,
    taskQueue: cfg.SLUICE_TASK_QUEUE,
    apiKey: cfg.ANTHROPIC_API_KEY,
    baseURL: cfg.ANTHROPIC_BASE_URL,
    storeDir: cfg.storeDir,
    activityConcurrency: cfg.SLUICE_ACTIVITY_CONCURRENCY,
    workflowCache: cfg.SLUICE_WORKFLOW_CACHE,
    prices: cfg.SLUICE_PRICES ? (JSON.parse(cfg.SLUICE_PRICES) as unknown) : undefined,
    workflowBundlePath: env.SLUICE_WORKFLOW_BUNDLE,
  });
  console.error(`Sluice worker on ${cfg.TEMPORAL_ADDRESS}, namespace ${cfg.TEMPORAL_NAMESPACE}, queue ${cfg.SLUICE_TASK_QUEUE}`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

function sdkLogLevel(level: SluiceConfig['SLUICE_LOG_LEVEL']): LogLevel {
  const map: Record<SluiceConfig['SLUICE_LOG_LEVEL'], LogLevel> = {
    trace: 'TRACE',
    debug: 'DEBUG',
    info: 'INFO',
    warn: 'WARN',
    error: 'ERROR',
    fatal: 'ERROR',
    silent: 'ERROR',
  };
  return map[level];
}

if (require.main === module) {
  runWorkerFromEnv().catch((err: unknown) => {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
    process.exit(1);
  });
}
