/**
 * Request validation, worded like the real API (pydantic-style `path: message`). Pure.
 *
 * - `validateCreateBody`: what refuses a whole batch at create (400 invalid_request_error).
 * - `validateParams` (params-validation.ts): what is wrong inside one request's `params`; in a batch it becomes an
 *   `errored` result line, on POST /v1/messages an immediate 400.
 */
import type { ServedModel } from './models';

export const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

export interface BatchRequestInput {
  custom_id: string;
  params: Record<string, unknown>;
}

export type CreateValidation = { ok: true; requests: BatchRequestInput[] } | { ok: false; message: string };

export interface ModelRules {
  lineup: readonly ServedModel[];
  acceptPrefix: string | null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function customIdProblem(value: unknown): string | null {
  if (value === undefined) return 'Field required';
  if (typeof value !== 'string') return 'Input should be a valid string';
  if (value.length < 1) return 'String should have at least 1 character';
  if (value.length > 64) return 'String should have at most 64 characters';
  if (!CUSTOM_ID_PATTERN.test(value)) return `String should match pattern '${CUSTOM_ID_PATTERN.source}'`;
  return null;
}

export function validateCreateBody(body: unknown, maxRequests: number): CreateValidation {
  if (!isObject(body)) return { ok: false, message: 'Input should be a valid dictionary' };
  const requests = body['requests'];
  if (requests === undefined) return { ok: false, message: 'requests: Field required' };
  if (!Array.isArray(requests)) return { ok: false, message: 'requests: Input should be a valid list' };
  if (requests.length < 1) {
    return { ok: false, message: 'requests: List should have at least 1 item after validation, not 0' };
  }
  if (requests.length > maxRequests) {
    return {
      ok: false,
      message: `requests: List should have at most ${maxRequests} items after validation, not ${requests.length}`,
    };
  }
  for (const key of Object.keys(body)) {
    if (key !== 'requests') return { ok: false, message: `${key}: Extra inputs are not permitted` };
  }
  const seen = new Set<string>();
  for (let i = 0; i < requests.length; i++) {
    const item: unknown = requests[i];
    if (!isObject(item)) return { ok: false, message: `requests.${i}: Input should be a valid dictionary` };
    const problem = customIdProblem(item['custom_id']);
    if (problem) return { ok: false, message: `requests.${i}.custom_id: ${problem}` };
    if (item['params'] === undefined) return { ok: false, message: `requests.${i}.params: Field required` };
    if (!isObject(item['params'])) {
      return { ok: false, message: `requests.${i}.params: Input should be a valid dictionary` };
    }
    const customId = item['custom_id'] as string;
    if (seen.has(customId)) {
      return {
        ok: false,
        message: `requests: custom_id's must be unique within a batch. Duplicate custom_id found: ${customId}`,
      };
    }
    seen.add(customId);
  }
  return { ok: true, requests: requests as BatchRequestInput[] };
}

