/**
 * Request validation, worded like the real API (pydantic-style `path: message`). Pure.
 *
 * - `validateCreateBody`: what refuses a whole batch at create (400 invalid_request_error).
 * - `validateParams`: what is wrong inside one request's `params`; in a batch it becomes an `errored` result
 *   line, on POST /v1/messages an immediate 400.
 */

export const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

export interface BatchRequestInput {
  custom_id: string;
  params: Record<string, unknown>;
}

export type CreateValidation = { ok: true; requests: BatchRequestInput[] } | { ok: false; message: string };

export interface ModelRules {
  known: readonly string[];
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

export function isKnownModel(model: string, rules: ModelRules): boolean {
  return rules.known.includes(model) || (rules.acceptPrefix !== null && model.startsWith(rules.acceptPrefix));
}

function messagesProblem(messages: unknown): string | null {
  if (messages === undefined) return 'messages: Field required';
  if (!Array.isArray(messages)) return 'messages: Input should be a valid list';
  if (messages.length === 0) return 'messages: at least one message is required';
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    if (!isObject(message)) return `messages.${i}: Input should be a valid dictionary`;
    if (message['role'] !== 'user' && message['role'] !== 'assistant') {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    const content = message['content'];
    if (content === undefined) return `messages.${i}.content: Field required`;
    if (typeof content !== 'string' && !Array.isArray(content)) {
      return `messages.${i}.content: Input should be a valid string or list`;
    }
  }
  return null;
}

/** The problem with one request's params, or null. `where` changes only the wording for `stream`. */
export function validateParams(
  params: Record<string, unknown>,
  models: ModelRules,
  where: 'batch' | 'sync',
): string | null {
  const model = params['model'];
  if (model === undefined) return 'model: Field required';
  if (typeof model !== 'string') return 'model: Input should be a valid string';
  const maxTokens = params['max_tokens'];
  if (maxTokens === undefined) return 'max_tokens: Field required';
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens))
    return 'max_tokens: Input should be a valid integer';
  if (maxTokens < 1) return 'max_tokens: Input should be greater than or equal to 1';
  const messages = messagesProblem(params['messages']);
  if (messages) return messages;
  const stream = params['stream'];
  if (stream !== undefined && typeof stream !== 'boolean') return 'stream: Input should be a valid boolean';
  if (stream === true && where === 'batch') return 'stream: Streaming is not supported in the Message Batches API';
  const temperature = params['temperature'];
  if (temperature !== undefined) {
    if (typeof temperature !== 'number') return 'temperature: Input should be a valid number';
    if (temperature < 0) return 'temperature: Input should be greater than or equal to 0';
    if (temperature > 1) return 'temperature: Input should be less than or equal to 1';
  }
  if (!isKnownModel(model, models)) return `model: ${model}`;
  return null;
}
