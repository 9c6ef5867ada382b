/**
 * Every error the Anthropic SDK can throw, classed terminal or retryable in one place, and turned into the
 * ApplicationFailure Temporal acts on: retryable ones keep the API's retry-after, terminal ones (bad key, refused
 * batch, a call the SDK itself refuses) stop at once. On an activity's last attempt (its retry policy's
 * maximumAttempts) a retryable failure becomes terminal too, so the job stops with the reason instead of the
 * activity failing without one. Only the API's error type and message are kept; request bodies never reach a
 * failure message.
 */
import Anthropic from '@anthropic-ai/sdk';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { classifyHttpError, retryAfterMs, type HeaderRecord } from '../domain/retry';

/** Failure types the workflow recognises. */
export const FailureType = {
  AuthenticationFailed: 'AuthenticationFailed',
  BatchRejected: 'BatchRejected',
  ApiFatal: 'ApiFatal',
  ApiRetryable: 'ApiRetryable',
  /** The SDK refused the call before sending it (e.g. a non-streaming call it expects to outlast 10 minutes). */
  ClientRefused: 'ClientRefused',
  /** A batch's results answer 404 for good: archived (29 days after create) or deleted. */
  ResultsGone: 'ResultsGone',
  /** A retryable failure on the activity's last allowed attempt. */
  AttemptsExhausted: 'AttemptsExhausted',
} as const;

export interface SdkErrorVerdict {
  verdict: 'retryable' | 'terminal';
  /** The API's error type, or what the SDK's error class says (`connection_error`, `client_error`, ...). */
  errorType: string;
  status?: number;
  /** Why, in words, without the request. */
  reason: string;
  apiMessage?: string;
  requestId?: string;
  retryAfterMs?: number;
}

/**
 * The class of any error thrown by an SDK call. Order matters: the connection errors are APIErrors without a
 * status; a plain AnthropicError is the SDK refusing the call itself, which no retry changes.
 */
export function classifySdkError(err: unknown, opts: { justCreated?: boolean } = {}): SdkErrorVerdict {
  if (err instanceof Anthropic.APIConnectionTimeoutError) {
    return { verdict: 'retryable', errorType: 'timeout_error', reason: 'the call timed out' };
  }
  if (err instanceof Anthropic.APIConnectionError) {
    return { verdict: 'retryable', errorType: 'connection_error', reason: 'connection error' };
  }
  if (err instanceof Anthropic.APIUserAbortError) {
    // Only our own cancellation aborts a call; the next attempt (if any) sends it again.
    return { verdict: 'retryable', errorType: 'aborted', reason: 'the call was aborted' };
  }
  if (err instanceof Anthropic.APIError) {
    const body = err.error as { error?: { type?: string; message?: string }; type?: string; message?: string } | undefined;
    // A batch call answers {"type":"error","error":{...}}; an error event in a stream carries the same shape.
    const errorType = body?.error?.type ?? (status(err) === undefined ? 'api_error' : `http_${status(err)}`);
    const apiMessage = body?.error?.message;
    const s = status(err);
    const headers = err.headers as Headers | undefined;
    const delayMs = headers ? retryAfterMs(headersToRecord(headers)) : undefined;
    const base = { errorType, status: s, apiMessage, requestId: err.requestID ?? undefined, retryAfterMs: delayMs };
    if (s === undefined) {
      // An error event mid-stream: classed by its type, as a batch result would be.
      const retryable = ['api_error', 'overloaded_error', 'rate_limit_error', 'timeout_error'].includes(errorType);
      return { ...base, verdict: retryable ? 'retryable' : 'terminal', reason: `the API sent an error event (${errorType})` };
    }
    const v = classifyHttpError(s, body?.error?.type, opts);
    return { ...base, verdict: v.verdict === 'fatal' ? 'terminal' : 'retryable', reason: v.reason };
  }
  if (err instanceof Anthropic.AnthropicError) {
    return { verdict: 'terminal', errorType: 'client_error', reason: `the SDK refused the call: ${err.message}` };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { verdict: 'retryable', errorType: 'unknown_error', reason: message };
}

function status(err: { status?: unknown }): number | undefined {
  return typeof err.status === 'number' ? err.status : undefined;
}

/** True on the last attempt the running activity's retry policy allows (false outside an activity). */
export function isLastAttempt(): boolean {
  let info;
  try {
    info = Context.current().info;
  } catch {
    return false;
  }
  const max = info.retryPolicy?.maximumAttempts;
  return max !== undefined && max > 0 && info.attempt >= max;
}

export function toApiFailure(err: unknown, what: string, opts: { justCreated?: boolean } = {}): ApplicationFailure {
  const v = classifySdkError(err, opts);
  const details = { status: v.status ?? null, errorType: v.errorType, requestId: v.requestId ?? null };
  const message = `${what}: ${v.reason}${v.apiMessage ? ` — ${v.apiMessage}` : ''}`;
  if (v.verdict === 'terminal') {
    const type =
      v.status === 401
        ? FailureType.AuthenticationFailed
        : v.status === 400 || v.status === 413
          ? FailureType.BatchRejected
          : v.errorType === 'client_error'
            ? FailureType.ClientRefused
            : FailureType.ApiFatal;
    return ApplicationFailure.create({ message, type, nonRetryable: true, details: [details] });
  }
  if (isLastAttempt()) {
    return ApplicationFailure.create({
      message: `${message} (gave up after ${Context.current().info.attempt} attempts)`,
      type: FailureType.AttemptsExhausted,
      nonRetryable: true,
      details: [details],
    });
  }
  return ApplicationFailure.create({
    message,
    type: FailureType.ApiRetryable,
    details: [details],
    nextRetryDelay: v.retryAfterMs ? `${v.retryAfterMs} ms` : undefined,
  });
}

function headersToRecord(headers: Headers | Record<string, string>): HeaderRecord {
  if (typeof (headers as Headers).forEach === 'function') {
    const out: HeaderRecord = {};
    (headers as Headers).forEach((value, key) => (out[key] = value));
    return out;
  }
  return headers as HeaderRecord;
}
