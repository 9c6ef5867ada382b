/**
 * How long each kind of activity may take and how often it is tried, in one place. Every activity is bounded:
 * past its attempts the activity fails, and the API activities turn their last failure into a non-retryable one
 * (src/activities/api-failure.ts, from `retryPolicy.maximumAttempts` in the activity's info), so the job stops,
 * writes what it has and says why, instead of retrying forever. A missing store blob will not appear by waiting,
 * so it is never retried.
 *
 * Changing these options changes no command of a recorded history (the options are attributes, not commands).
 */
import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';

/** Thrown by the stores for a key that does not exist (src/store/blob-store.ts). */
export const NEVER_RETRIED_ERROR_TYPES = ['BlobNotFoundError'];

/**
 * Small calls (submit, poll, cancel, queue messages) back off to a minute between tries: 60 attempts ride out
 * about 55 minutes of API outage or rate limiting before the job gives up.
 */
export const SHORT_CALL_MAX_ATTEMPTS = 60;
/** Long activities (plan, collect, synchronous calls, finalize) each try for up to 30 minutes: 10 attempts. */
export const LONG_ACTIVITY_MAX_ATTEMPTS = 10;

const backoff = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

export const shortCallRetry: RetryPolicy = {
  ...backoff,
  maximumAttempts: SHORT_CALL_MAX_ATTEMPTS,
  nonRetryableErrorTypes: NEVER_RETRIED_ERROR_TYPES,
};

export const longActivityRetry: RetryPolicy = {
  ...backoff,
  maximumAttempts: LONG_ACTIVITY_MAX_ATTEMPTS,
  nonRetryableErrorTypes: NEVER_RETRIED_ERROR_TYPES,
};

/** A create may carry up to 256 MB (a minute is room for that); the rest are small calls, retried soon after a crash. */
export const quickActivity: ActivityOptions = { startToCloseTimeout: '1m', retry: shortCallRetry };
export const shortActivity: ActivityOptions = { startToCloseTimeout: '30s', retry: shortCallRetry };

/** Plan, collect, synchronous sub-batches and finalize: heartbeating, up to 30 minutes an attempt. */
export function longActivity(heartbeatTimeoutMs: number | undefined): ActivityOptions {
  return { startToCloseTimeout: '30m', heartbeatTimeout: heartbeatTimeoutMs, retry: longActivityRetry };
}
