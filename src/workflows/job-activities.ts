/**
 * The activities as the job workflow calls them, with their timeouts and bounds (the policies are in
 * activity-options.ts): a create may carry up to 256 MB and heartbeats while its call runs; polls, cancels and
 * scheduler requests are small calls, retried soon after a crash; plans, results downloads, synchronous sub-batches
 * and finalize are long and heartbeat.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { SluiceActivities } from '../contracts/activities';
import type { JobOptions } from '../domain/job';
import { SUBMIT_HEARTBEAT_TIMEOUT_MS, SUBMIT_START_TO_CLOSE_MS } from '../domain/reconcile';
import { longActivity, quickActivity, shortActivity, shortCallRetry } from './activity-options';

export const quick: ActivityOptions = quickActivity;
export const short: ActivityOptions = shortActivity;
/** The create call's SDK timeout stays below this start-to-close (src/domain/reconcile.ts); heartbeats carry a cancel to the call. */
export const submitOptions: ActivityOptions = {
  startToCloseTimeout: SUBMIT_START_TO_CLOSE_MS,
  heartbeatTimeout: SUBMIT_HEARTBEAT_TIMEOUT_MS,
  retry: shortCallRetry,
};
export const longFor = (opts: JobOptions): ActivityOptions => longActivity(opts.heartbeatTimeoutMs);

export const acts = proxyActivities<SluiceActivities>(quick);
