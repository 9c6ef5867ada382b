/**
 * Sluice as a Temporal plugin: one line adds Sluice's workflows, activities and (when configured) payload codec to
 * someone else's Worker, and the same codec to their Client.
 *
 *   const worker = await Worker.create({ connection, taskQueue, workflowsPath, plugins: [new SluicePlugin({ store, anthropic })] });
 *
 * `sluice worker` is built on it (src/worker.ts).
 */
import Anthropic from '@anthropic-ai/sdk';
import type { DataConverter, MetricMeter } from '@temporalio/common';
import { SimplePlugin } from '@temporalio/plugin';
import { Runtime, type ReplayWorkerOptions, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type SluiceActivities } from '../activities';
import { ConfigError, parseConfig } from '../domain/errors';
import { withPriceOverrides } from '../domain/prices';
import { QueueCapacitySchema, type QueueCapacityInput } from '../domain/queue';
import { QueueRefreshSchema, type QueueRefreshInput } from '../domain/queue-membership';
import { SubmissionTimingSchema, type SubmissionTimingInput } from '../domain/reconcile';
import { SluiceMetrics } from '../metrics';
import type { BlobStore } from '../store/blob-store';
import { combinedWorkflowsPath, SLUICE_WORKFLOWS_PATH } from './combined-workflows';

export interface SluicePluginOptions {
  /** Where request bodies and results live: a LocalDirectoryStore, a PostgresStore, or your own BlobStore. */
  store: BlobStore;
  /**
   * The Messages API: a client of your own, or its key and base URL. Sluice makes a copy with SDK retries off for
   * creating batches (a retry after a lost answer would pay twice; Temporal retries the activity, which reconciles).
   */
  anthropic: Anthropic | { apiKey: string; baseURL?: string };
  /** Price overrides by model, as in SLUICE_PRICES. */
  prices?: unknown;
  /** Room in the account's batch queue (per API key); defaults: 100,000 requests, 1,000 batches. */
  queueCapacity?: QueueCapacityInput;
  /** How often jobs refresh their seat in the scheduler and how many refreshes a member may miss; defaults: 60 s, 3. */
  queueRefresh?: QueueRefreshInput;
  /** One poller per namespace and API key serves every job (default true); false: each job polls its own batches. */
  accountPoll?: boolean;
  /** The task queue new pollers start on (a Worker must serve it); default: the job's own task queue. */
  pollerTaskQueue?: string;
  /** E.g. dataConverterFromEnv(): payload encryption, on the worker and on clients made with this plugin. */
  dataConverter?: DataConverter;
  /** The create call's timeout and reconciliation timing (SubmissionTimingSchema); tests shorten them. */
  submission?: SubmissionTimingInput;
  /** The Temporal Web UI, for the link in each job's report; no link without it. */
  webUiUrl?: string;
  /** Job-clock ms per API-clock ms (an emulator's timeScale; 1 against the real API), for learned windows. */
  apiTimeScale?: number;
  /** Where Sluice's metrics go; default: the Temporal runtime's meter (a no-op unless the runtime exports metrics). */
  metricMeter?: MetricMeter;
}

export class SluicePlugin extends SimplePlugin {
  /** The activities the plugin registers, for workers configured by hand. */
  readonly activities: SluiceActivities;
  /** The metrics the activities record into, one set per plugin (no module-wide registry). */
  readonly metrics: SluiceMetrics;
  private readonly metricMeter: MetricMeter | undefined;

  constructor(o: SluicePluginOptions) {
    const { anthropic, anthropicNoRetry } = anthropicClients(o.anthropic);
    const metrics = new SluiceMetrics();
    const activities = createActivities({
      store: o.store,
      anthropic,
      anthropicNoRetry,
      prices: withPriceOverrides(o.prices ?? {}),
      queueCapacity: parseConfig(QueueCapacitySchema, o.queueCapacity ?? {}, 'queueCapacity'),
      queueRefresh: parseConfig(QueueRefreshSchema, o.queueRefresh ?? {}, 'queueRefresh'),
      submission: parseConfig(SubmissionTimingSchema, o.submission ?? {}, 'submission'),
      accountPoll: o.accountPoll ?? true,
      pollerTaskQueue: o.pollerTaskQueue,
      webUiUrl: o.webUiUrl,
      apiTimeScale: o.apiTimeScale,
      metrics,
    });
    super({
      name: 'sluice',
      activities,
      dataConverter: o.dataConverter,
      workflowsPath: (existing) => (existing === undefined ? SLUICE_WORKFLOWS_PATH : combinedWorkflowsPath(existing)),
    });
    this.activities = activities;
    this.metrics = metrics;
    this.metricMeter = o.metricMeter;
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    const configured = withoutPathBesideBundle(options, super.configureWorker(options));
    // Sluice's own metrics go through the given meter or the runtime's (a no-op unless the runtime exports metrics).
    this.metrics.enable(this.metricMeter ?? Runtime.instance().metricMeter, {
      namespace: options.namespace ?? 'default',
      task_queue: options.taskQueue,
    });
    return configured;
  }

  override configureReplayWorker(options: ReplayWorkerOptions): ReplayWorkerOptions {
    return withoutPathBesideBundle(options, super.configureReplayWorker(options));
  }
}

/**
 * A prebuilt bundle holds whatever was bundled: bundle it with the plugin (`bundleWorkflowCode({ workflowsPath,
 * plugins: [sluicePlugin] })`) and the plugin adds no path beside it.
 */
function withoutPathBesideBundle<T extends { workflowBundle?: unknown; workflowsPath?: string }>(given: T, configured: T): T {
  return given.workflowBundle === undefined ? configured : { ...configured, workflowsPath: undefined };
}

function anthropicClients(given: SluicePluginOptions['anthropic']): { anthropic: Anthropic; anthropicNoRetry: Anthropic } {
  // Duck-typed: the caller's SDK may be another copy of the package than Sluice's.
  if ('withOptions' in given && typeof given.withOptions === 'function') {
    return { anthropic: given, anthropicNoRetry: given.withOptions({ maxRetries: 0 }) };
  }
  if (typeof given?.apiKey !== 'string' || given.apiKey === '') {
    throw new ConfigError('anthropic.apiKey', 'is missing: SluicePlugin needs an API key (for the emulator, the key it prints)');
  }
  const options = { apiKey: given.apiKey, baseURL: given.baseURL };
  return { anthropic: new Anthropic({ ...options, maxRetries: 4 }), anthropicNoRetry: new Anthropic({ ...options, maxRetries: 0 }) };
}
