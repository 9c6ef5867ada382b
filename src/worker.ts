/**
 * The worker process: reads its configuration from the environment, connects to Temporal and runs Sluice's
 * workflows and activities on one task queue. `createSluiceWorker` (a Worker with the SluicePlugin) is also used by
 * the dev stack and tests.
 */
import type { DataConverter, MetricMeter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import type { QueueCapacityInput } from './domain/queue';
import type { QueueRefreshInput } from './domain/queue-membership';
import type { SubmissionTimingInput } from './domain/reconcile';
import { dataConverterFromEnv } from './codec';
import { loadConfig, submissionTimingFromEnv, type SluiceConfig } from './config';
import { pollerTaskQueueOf } from './contracts/workflow-ids';
import { ConfigError } from './domain/errors';
import { SLUICE_HISTOGRAM_BUCKETS } from './metrics';
import { createIntakeWorker } from './intake-worker';
import { SluicePlugin } from './plugin/sluice-plugin';
import { createStore } from './store';
import { assertClusterReady } from './temporal/cluster-check';
import { eagerFriendlyActivityPolling } from './temporal/activity-polling';
import { grpcCompressionFor } from './temporal/grpc-compression';
import type { BlobStore } from './store/blob-store';
import { LocalDirectoryStore } from './store/local-store';
import { describeMemory, exitWithFirstProcess, memoryInForce, reexecWithHeapLimit, workerSizing, type WorkerMemory } from './worker-memory';

export interface SluiceWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  apiKey: string;
  baseURL?: string;
  /** The job store; or `storeDir` for a local directory. */
  store?: BlobStore;
  storeDir?: string;
  activityConcurrency?: number;
  /**
   * Activity slots a workflow task may reserve for activities it schedules (eager dispatch); default: all the
   * worker's slots. The SDK's default of 3 sent a job's other creates and downloads of each task through matching.
   */
  eagerActivitiesPerTask?: number;
  /**
   * At most this many activity task polls open at once; default 10. Polls start at one and grow only while the
   * server has a backlog: each holds one of the worker's slots while it waits, and a held slot cannot take an
   * eagerly dispatched activity.
   */
  activityPollers?: number;
  workflowCache?: number;
  /** Activities per second for the whole task queue (server-side), across all workers; unset: no limit. */
  maxTaskQueueActivitiesPerSecond?: number;
  prices?: unknown;
  /** Room in the account's batch queue (per API key); defaults: 100,000 requests, 1,000 batches. */
  queueCapacity?: QueueCapacityInput;
  /** How often jobs refresh their seat in the scheduler and how many refreshes a member may miss; defaults: 60 s, 3. */
  queueRefresh?: QueueRefreshInput;
  /** The create call's timeout and reconciliation timing (SubmissionTimingSchema); tests shorten them. */
  submission?: SubmissionTimingInput;
  /** One poll per account (SLUICE_ACCOUNT_POLL); default on. False: each job polls its own batches. */
  accountPoll?: boolean;
  /** The task queue new pollers start on (createPollerWorker serves it); default: the job's own task queue. */
  pollerTaskQueue?: string;
  /** A prebuilt workflow bundle (production images); otherwise the workflows are bundled at start. */
  workflowBundlePath?: string;
  /** E.g. dataConverterFromEnv(): payload encryption. Clients of the same jobs need the same one. */
  dataConverter?: DataConverter;
  /** The Temporal Web UI, for the link in each job's report. */
  webUiUrl?: string;
  /** Job-clock ms per API-clock ms (the emulator's timeScale; 1 against the real API), for learned windows. */
  apiTimeScale?: number;
  /** Where Sluice's metrics go (a test's registry); default: the runtime's meter, exported at SLUICE_METRICS_ADDRESS. */
  metricMeter?: MetricMeter;
}

export async function createSluiceWorker(o: SluiceWorkerOptions, plugin: SluicePlugin = sluicePluginFor(o)): Promise<Worker> {
  const slots = o.activityConcurrency ?? 32;
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    // Without a prebuilt bundle, the plugin adds the workflows to bundle at start.
    workflowBundle: o.workflowBundlePath ? { codePath: o.workflowBundlePath } : undefined,
    maxConcurrentActivityTaskExecutions: slots,
    // Eagerly dispatched, an activity skips the server's matching (a task written, a poll answered, a started RPC):
    // about a fifth less worker CPU and a third less server CPU per activity in `npm run bench` (docs/performance.md).
    ...eagerFriendlyActivityPolling(slots, o.activityPollers),
    ...(o.eagerActivitiesPerTask !== undefined && { maxEagerActivityReservationsPerWorkflowTask: o.eagerActivitiesPerTask }),
    maxCachedWorkflows: o.workflowCache ?? 200,
    maxTaskQueueActivitiesPerSecond: o.maxTaskQueueActivitiesPerSecond,
    plugins: [plugin],
  });
}

/** The plugin a worker runs Sluice with; one shared by the job worker and the intake worker of one process. */
export function sluicePluginFor(o: SluiceWorkerOptions): SluicePlugin {
  const store = o.store ?? (o.storeDir === undefined ? undefined : new LocalDirectoryStore(o.storeDir));
  if (!store) throw new ConfigError('store', 'createSluiceWorker needs a store or a storeDir');
  return new SluicePlugin({
    store,
    anthropic: { apiKey: o.apiKey, baseURL: o.baseURL },
    prices: o.prices,
    queueCapacity: o.queueCapacity,
    queueRefresh: o.queueRefresh,
    accountPoll: o.accountPoll,
    pollerTaskQueue: o.pollerTaskQueue,
    dataConverter: o.dataConverter,
    submission: o.submission,
    webUiUrl: o.webUiUrl,
    apiTimeScale: o.apiTimeScale,
    metricMeter: o.metricMeter,
  });
}

/**
 * The Worker that serves the account's poller, beside the jobs' Worker in the same process: its own task queue
 * (pollerTaskQueueOf the jobs' queue), its own workflow slots and thread, so the poller's tasks and walks do not wait
 * behind fifty jobs' activations. Few slots: one workflow and its records activity. The same options as the jobs'
 * Worker otherwise; give that one `pollerTaskQueue` too, so the jobs start new pollers here.
 */
export function createPollerWorker(o: SluiceWorkerOptions, plugin?: SluicePlugin): Promise<Worker> {
  const pollerTaskQueue = pollerTaskQueueOf(o.taskQueue);
  const options = { ...o, taskQueue: pollerTaskQueue, pollerTaskQueue, activityConcurrency: 4, workflowCache: 4 };
  return createSluiceWorker(options, plugin ?? sluicePluginFor(options));
}

/**
 * `sluice worker`: validates the environment, keeps within its memory budget (running itself again with a heap
 * limit when started without one, src/worker-memory.ts), then runs until a shutdown signal. Resolves with the exit
 * code of the process that ran the worker.
 */
export interface RunWorkerOptions {
  /** Print the memory budget and the sizes chosen, as JSON, instead of running. */
  printConfig?: boolean;
  /**
   * Without a --max-old-space-size in force, run this process's command again with the heap limit the budget gives
   * (what `sluice worker` does). Off for a caller's own script: its heap is its own affair; slots and cache are
   * still sized from the budget.
   */
  setHeapLimit?: boolean;
}

export async function runWorkerFromEnv(env: NodeJS.ProcessEnv = process.env, o: RunWorkerOptions = {}): Promise<number> {
  const cfg: SluiceConfig = loadConfig(env);
  if (!cfg.ANTHROPIC_API_KEY && !o.printConfig) {
    throw new ConfigError('ANTHROPIC_API_KEY', 'is not set: the worker needs a key (for the emulator, the key it prints)');
  }
  const sizing = await workerSizing(cfg);
  if (o.setHeapLimit) {
    const childExit = await reexecWithHeapLimit(sizing, env);
    if (childExit !== undefined) return childExit;
    exitWithFirstProcess(env);
  }
  const memory = memoryInForce(sizing, env);
  if (o.printConfig) {
    console.log(JSON.stringify({ taskQueue: cfg.SLUICE_TASK_QUEUE, namespace: cfg.TEMPORAL_NAMESPACE, memory }, null, 2));
    return 0;
  }
  await runWorker(cfg, memory, env);
  return 0;
}

async function runWorker(cfg: SluiceConfig, memory: WorkerMemory, env: NodeJS.ProcessEnv): Promise<void> {
  const apiKey = cfg.ANTHROPIC_API_KEY!;
  const dataConverter = dataConverterFromEnv(env);
  Runtime.install({
    logger: new DefaultLogger(sdkLogLevel(cfg.SLUICE_LOG_LEVEL)),
    // Temporal's worker metrics and Sluice's (src/metrics.ts) on one Prometheus endpoint: GET /metrics.
    telemetryOptions: cfg.SLUICE_METRICS_ADDRESS
      ? {
          metrics: {
            prometheus: { bindAddress: cfg.SLUICE_METRICS_ADDRESS, histogramBucketOverrides: SLUICE_HISTOGRAM_BUCKETS },
          },
        }
      : undefined,
  });
  const store = createStore(cfg);
  try {
    const codec = grpcCompressionFor(cfg.SLUICE_TEMPORAL_COMPRESSION, cfg.temporal.address);
    const connection = await NativeConnection.connect({ ...cfg.temporal.options, grpcCompression: { codec } });
    try {
      // A cluster without the namespace or Sluice's search attributes would fail every job: say so now, in one line.
      await assertClusterReady(connection, cfg.TEMPORAL_NAMESPACE);
      const options: SluiceWorkerOptions = {
        connection,
        namespace: cfg.TEMPORAL_NAMESPACE,
        taskQueue: cfg.SLUICE_TASK_QUEUE,
        apiKey,
        baseURL: cfg.ANTHROPIC_BASE_URL,
        store,
        activityConcurrency: memory.activitySlots,
        workflowCache: memory.workflowCache,
        maxTaskQueueActivitiesPerSecond: cfg.SLUICE_TASK_QUEUE_ACTIVITIES_PER_SECOND,
        prices: cfg.SLUICE_PRICES ? (JSON.parse(cfg.SLUICE_PRICES) as unknown) : undefined,
        queueCapacity: {
          maxRequests: cfg.SLUICE_QUEUE_MAX_REQUESTS,
          maxBatches: cfg.SLUICE_QUEUE_MAX_BATCHES,
          preempt: cfg.SLUICE_QUEUE_PREEMPT,
        },
        queueRefresh: { refreshMs: cfg.SLUICE_QUEUE_REFRESH_MS, missedRefreshes: cfg.SLUICE_QUEUE_MISSED_REFRESHES },
        workflowBundlePath: cfg.SLUICE_WORKFLOW_BUNDLE,
        submission: submissionTimingFromEnv(cfg),
        accountPoll: cfg.SLUICE_ACCOUNT_POLL === 'on',
        dataConverter,
        webUiUrl: cfg.SLUICE_WEB_UI,
        apiTimeScale: cfg.SLUICE_API_TIME_SCALE,
        pollerTaskQueue: pollerTaskQueueOf(cfg.SLUICE_TASK_QUEUE),
      };
      const plugin = sluicePluginFor(options);
      const serves = cfg.SLUICE_WORKER_SERVES;
      const jobWorkers = serves === 'intakes' ? [] : [await createSluiceWorker(options, plugin), await createPollerWorker(options, plugin)];
      const intakeQueue = serves === 'jobs' ? undefined : cfg.SLUICE_INTAKE_TASK_QUEUE;
      const intakeWorker = intakeQueue ? await createIntakeWorker({ ...options, intakeTaskQueue: intakeQueue }, plugin) : undefined;
      const workers = [...jobWorkers, ...(intakeWorker ? [intakeWorker] : [])];
      const queues =
        serves === 'intakes'
          ? `intakes only, on ${intakeQueue} (SLUICE_WORKER_SERVES)`
          : `queue ${cfg.SLUICE_TASK_QUEUE} (the account's poller on ${options.pollerTaskQueue}${intakeQueue ? `, intakes on ${intakeQueue}` : ''})`;
      console.error(
        [
          `Sluice worker on ${cfg.temporal.description}, ${queues}`,
          `store: ${store.description}`,
          `metrics: ${cfg.SLUICE_METRICS_ADDRESS ? `http://${cfg.SLUICE_METRICS_ADDRESS}/metrics` : 'off (SLUICE_METRICS_ADDRESS)'}`,
          `payload encryption: ${dataConverter ? 'on' : 'off (SLUICE_CODEC_KEYS)'}`,
          `gRPC compression: ${codec} (SLUICE_TEMPORAL_COMPRESSION)`,
          describeMemory(memory),
        ].join('; '),
      );
      // All stop on the same shutdown signal; one that fails stops the others.
      await Promise.all(
        workers.map((w) =>
          w.run().catch((err: unknown) => {
            for (const other of workers) if (other.getState() === 'RUNNING') other.shutdown();
            throw err;
          }),
        ),
      );
    } finally {
      await connection.close();
    }
  } finally {
    await store.close();
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
  runWorkerFromEnv(process.env, { setHeapLimit: true }).then((code) => (process.exitCode = code)).catch((err: unknown) => {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
    process.exit(1);
  });
}
