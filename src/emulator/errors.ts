/** Error envelopes and the HTTP status of each error type, as the real API sends them. Pure. */
import type { ErrorType } from './config';

export interface ErrorEnvelope {
  type: 'error';
  error: { type: ErrorType | 'request_too_large'; message: string };
  request_id: string | null;
}

export const STATUS_BY_ERROR_TYPE: Record<ErrorType | 'request_too_large', number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

export const DEFAULT_ERROR_MESSAGES: Record<ErrorType | 'request_too_large', string> = {
  invalid_request_error: 'Invalid request',
  authentication_error: 'invalid x-api-key',
  billing_error: 'Your credit balance is too low to access the Anthropic API.',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'Not found',
  request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error: 'Number of requests has exceeded your rate limit. Please try again later.',
  api_error: 'Internal server error',
  timeout_error: 'Request timed out',
  overloaded_error: 'Overloaded',
};

export function errorEnvelope(
  type: ErrorType | 'request_too_large',
  message: string = DEFAULT_ERROR_MESSAGES[type],
  requestId: string | null = null,
): ErrorEnvelope {
  return { type: 'error', error: { type, message }, request_id: requestId };
}
