/**
 * The activities as the job workflow calls them, with their timeouts: a create may carry up to 256 MB (a minute
 * is room for that); polls, cancels and scheduler requests are small calls, retried soon after a crash; plans,
 * results downloads, synchronous sub-batches and finalize are long and heartbeat.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { SluiceActivities } from '../activities';
import type { JobOptions } from '../domain/job';
import { SUBMIT_HEARTBEAT_TIMEOUT_MS, SUBMIT_START_TO_CLOSE_MS } from '../domain/reconcile';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' };
export const quick: ActivityOptions = { startToCloseTimeout: '1m', retry };
export const short: ActivityOptions = { startToCloseTimeout: '30s', retry };
/** The create call's SDK timeout stays below this start-to-close (src/domain/reconcile.ts); heartbeats carry a cancel to the call. */
export const submitOptions: ActivityOptions = {
  startToCloseTimeout: SUBMIT_START_TO_CLOSE_MS,
  heartbeatTimeout: SUBMIT_HEARTBEAT_TIMEOUT_MS,
  retry,
};
export const longFor = (opts: JobOptions): ActivityOptions => ({ startToCloseTimeout: '30m', heartbeatTimeout: opts.heartbeatTimeoutMs, retry });

export const acts = proxyActivities<SluiceActivities>(quick);
