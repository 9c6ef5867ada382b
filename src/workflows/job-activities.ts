/**
 * The activities as the job workflow calls them, with their timeouts: a create may carry up to 256 MB (a minute
 * is room for that); polls, cancels and scheduler requests are small calls, retried soon after a crash; plans,
 * results downloads, synchronous sub-batches and finalize are long and heartbeat.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { SluiceActivities } from '../contracts/activities';
import type { JobOptions } from '../domain/job';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' };
export const quick: ActivityOptions = { startToCloseTimeout: '1m', retry };
export const short: ActivityOptions = { startToCloseTimeout: '30s', retry };
export const longFor = (opts: JobOptions): ActivityOptions => ({
  startToCloseTimeout: '30m',
  heartbeatTimeout: opts.heartbeatTimeoutMs,
  retry,
});

export const acts = proxyActivities<SluiceActivities>(quick);
