/**
 * Turns an error from the Anthropic SDK into the ApplicationFailure Temporal acts on: retryable ones keep
 * the API's retry-after, fatal ones (bad key, refused batch) stop retrying at once. Only the API's error
 * type and message are kept; request bodies never reach a failure message.
 */
import Anthropic from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { classifyHttpError, retryAfterMs, type HeaderRecord } from '../domain/retry';

/** Failure types the workflow recognises. */
export const FailureType = {
  AuthenticationFailed: 'AuthenticationFailed',
  BatchRejected: 'BatchRejected',
  ApiFatal: 'ApiFatal',
  ApiRetryable: 'ApiRetryable',
} as const;

export function toApiFailure(err: unknown, what: string, opts: { justCreated?: boolean } = {}): ApplicationFailure {
  if (!(err instanceof Anthropic.APIError)) {
    const message = err instanceof Error ? err.message : String(err);
    return ApplicationFailure.retryable(`${what}: ${message}`, FailureType.ApiRetryable);
  }
  const body = err.error as { error?: { type?: string; message?: string } } | undefined;
  const errorType = body?.error?.type;
  const apiMessage = body?.error?.message ?? err.message;
  const status = err.status as number | undefined;
  const verdict = classifyHttpError(status, errorType, opts);
  const details = { status: status ?? null, errorType: errorType ?? null, requestId: (err.requestID) ?? null };
  const message = `${what}: ${verdict.reason}${apiMessage ? ` — ${apiMessage}` : ''}`;
  if (verdict.verdict === 'fatal') {
    const type =
      status === 401
        ? FailureType.AuthenticationFailed
        : status === 400 || status === 413
          ? FailureType.BatchRejected
          : FailureType.ApiFatal;
    return ApplicationFailure.create({ message, type, nonRetryable: true, details: [details] });
  }
  const headers = err.headers as Headers | undefined;
  const delayMs = headers ? retryAfterMs(headersToRecord(headers)) : undefined;
  return ApplicationFailure.create({
    message,
    type: FailureType.ApiRetryable,
    details: [details],
    nextRetryDelay: delayMs ? `${delayMs} ms` : undefined,
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
