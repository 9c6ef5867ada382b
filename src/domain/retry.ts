// Retry classes: which outcomes earn another attempt, and which API call failures are worth retrying.

/** Error types the API may put in an errored result or an error response. */
export const RETRYABLE_ERROR_TYPES = ['api_error', 'overloaded_error', 'rate_limit_error', 'timeout_error'] as const;
export const TERMINAL_ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'billing_error',
  'not_found_error',
] as const;

/** A result line's `result`, as the API sends it. Fields are optional where a broken line may lack them. */
export type BatchResult =
  | { type: 'succeeded'; message: unknown }
  | { type: 'errored'; error?: { type?: string; error?: { type?: string; message?: string } } }
  | { type: 'canceled' }
  | { type: 'expired' };

export type ResultVerdict =
  | { outcome: 'succeeded' }
  | { outcome: 'retry'; reason: string }
  | { outcome: 'failed'; errorType: string; message: string }
  /** Canceled because the job itself was canceled: neither retried nor a failure. */
  | { outcome: 'canceled' };

export interface AttemptContext {
  /** 1-based number of the attempt that produced this result. */
  attempt: number;
  /** Attempts allowed per request; at attempt ≥ maxAttempts a retryable outcome becomes a failure. */
  maxAttempts: number;
  /** The job was canceled by its owner: canceled requests are then not retried. */
  jobCanceled: boolean;
}

export function isRetryableErrorType(errorType: string): boolean {
  return (RETRYABLE_ERROR_TYPES as readonly string[]).includes(errorType);
}

/** Decides what happens to one request after one attempt. */
export function classifyResult(result: BatchResult, ctx: AttemptContext): ResultVerdict {
  const lastAttempt = ctx.attempt >= ctx.maxAttempts;
  const attempts = `${ctx.attempt} attempt${ctx.attempt === 1 ? '' : 's'}`;
  switch (result.type) {
    case 'succeeded':
      return { outcome: 'succeeded' };
    case 'canceled':
    case 'expired':
      if (result.type === 'canceled' && ctx.jobCanceled) return { outcome: 'canceled' };
      return lastAttempt
        ? { outcome: 'failed', errorType: result.type, message: `${result.type} after ${attempts}` }
        : { outcome: 'retry', reason: result.type };
    case 'errored': {
      const errorType = result.error?.error?.type ?? 'unknown_error';
      const message = result.error?.error?.message ?? '(no message)';
      if (!isRetryableErrorType(errorType)) return { outcome: 'failed', errorType, message };
      return lastAttempt
        ? { outcome: 'failed', errorType, message: `${message} (after ${attempts})` }
        : { outcome: 'retry', reason: `${errorType}: ${message}` };
    }
    default: {
      const type = (result as { type?: unknown }).type;
      return { outcome: 'failed', errorType: 'unknown_result', message: `unknown result type ${JSON.stringify(type)}` };
    }
  }
}

export interface HttpErrorVerdict {
  verdict: 'retryable' | 'fatal';
  reason: string;
}

/**
 * Classifies a failed API call (create, retrieve, list, cancel, results). `status` is undefined for a
 * connection error. A 404 is retryable only right after create (`justCreated`), where the API has
 * been seen to lag; elsewhere it means the batch is gone.
 */
export function classifyHttpError(
  status: number | undefined,
  errorType?: string,
  opts: { justCreated?: boolean } = {},
): HttpErrorVerdict {
  const retryable = (reason: string): HttpErrorVerdict => ({ verdict: 'retryable', reason });
  const fatal = (reason: string): HttpErrorVerdict => ({ verdict: 'fatal', reason });
  const type = errorType === undefined ? '' : ` (${errorType})`;
  if (status === undefined) return retryable('connection error');
  switch (status) {
    case 400:
      return fatal(`bad request${type}: the API refused it as sent`);
    case 401:
      return fatal(`authentication failed${type}: check ANTHROPIC_API_KEY`);
    case 402:
      return fatal(`billing problem${type}: check the account's credit`);
    case 403:
      return fatal(`permission denied${type}: the key may not use this resource`);
    case 404:
      return opts.justCreated
        ? retryable(`not found yet${type}: the batch was just created`)
        : fatal(`not found${type}`);
    case 408:
      return retryable(`request timeout${type}`);
    case 409:
      return retryable(`conflict${type}`);
    case 413:
      return fatal(`request too large${type}: split into smaller sub-batches`);
    case 429:
      return retryable(`rate limited${type}`);
    case 529:
      return retryable(`overloaded${type}`);
  }
  if (status >= 500) return retryable(`server error ${status}${type}`);
  return fatal(`HTTP ${status}${type}`);
}

/** Headers as the SDK or fetch hand them over, as a plain record. */
export type HeaderRecord = Record<string, string | readonly string[] | null | undefined>;

/**
 * How long the API asks us to wait, from `retry-after-ms` (milliseconds) or `retry-after` (seconds,
 * or an HTTP date in GMT when `nowMs` is given). Undefined when absent or unreadable. Header names are
 * matched case-insensitively.
 */
export function retryAfterMs(headers: HeaderRecord, nowMs?: number): number | undefined {
  const header = (name: string): string | undefined => {
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() !== name || value === null || value === undefined) continue;
      return typeof value === 'string' ? value.trim() : value[0]?.trim();
    }
    return undefined;
  };
  const ms = parseNonNegative(header('retry-after-ms'));
  if (ms !== undefined) return Math.ceil(ms);
  const raw = header('retry-after');
  const seconds = parseNonNegative(raw);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  // Only an IMF-fixdate ("Tue, 01 Sep 2026 10:00:05 GMT"): Date.parse reads "-3" as a year.
  if (raw !== undefined && nowMs !== undefined && raw.endsWith('GMT')) {
    const atMs = Date.parse(raw);
    if (Number.isFinite(atMs)) return Math.max(0, atMs - nowMs);
  }
  return undefined;
}

function parseNonNegative(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d+(\.\d+)?$/.test(raw)) return undefined;
  return Number(raw);
}
