import type Anthropic from '@anthropic-ai/sdk';
import type { PriceTable } from '../domain/prices';
import type { QueueCapacity } from '../domain/queue';
import type { QueueRefreshInput } from '../domain/queue-membership';
import type { SubmissionTimingInput } from '../domain/reconcile';
import type { SluiceMetrics } from '../metrics';
import type { BlobStore } from '../store/blob-store';

/** What activities need from the outside world; the worker passes real clients, tests their own. */
export interface ActivityDeps {
  store: BlobStore;
  /** A client for reads (retrieve, list, results): the SDK's own retries are welcome there. */
  anthropic: Anthropic;
  /**
   * A client with maxRetries 0 for create: an SDK retry after a lost response would pay for the batch twice.
   * Temporal retries the activity instead, which first reconciles with what the API already has.
   */
  anthropicNoRetry: Anthropic;
  prices: PriceTable;
  /** Room in the account's batch queue that the API key's scheduler hands out. */
  queueCapacity: QueueCapacity;
  /** How often jobs refresh their seat in the scheduler, and how many refreshes a member may miss (defaults: 60 s, 3). */
  queueRefresh?: QueueRefreshInput;
  /** The Temporal Web UI (SLUICE_WEB_UI), for the job report's link to the job; no link without it. */
  webUiUrl?: string;
  /** Create timeout and reconciliation timing (defaults in SubmissionTimingSchema); validated where activities are built. */
  submission?: SubmissionTimingInput;
  /**
   * Job-clock ms per ms of the API's clock (created_at, ended_at): 1 against the real API, the emulator's timeScale
   * against a time-compressed one. Learned windows convert the API's batch latencies with it. Default 1.
   */
  apiTimeScale?: number;
  /**
   * One poll per account (SLUICE_ACCOUNT_POLL): jobs hand their batches to the account's poller. False: each job
   * polls on its own. Default on.
   */
  accountPoll?: boolean;
  /**
   * The task queue a new poller is started on (pollerTaskQueueOf the worker's queue, served by a second Worker of
   * `sluice worker`); unset: the job's own task queue.
   */
  pollerTaskQueue?: string;
  /** Where activities record Sluice's metrics (the plugin's, enabled on the worker's meter); none: not recorded. */
  metrics?: SluiceMetrics;
}
