/**
 * POST /v1/messages/count_tokens: the input tokens of a Messages body (without max_tokens), by the emulator's own
 * deterministic count (canonical JSON characters / 4, synthetic.ts), the same count its replies bill.
 */
import { parseJson } from './http';
import { summariseParams } from './synthetic';

export function countTokens(rawBody: Buffer): { ok: true; body: { input_tokens: number } } | { ok: false; message: string } {
  const json = parseJson(rawBody);
  if (!json.ok) return { ok: false, message: json.message };
  const body = json.value as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, message: 'Input should be a valid dictionary' };
  if (typeof body['model'] !== 'string') return { ok: false, message: 'model: Field required' };
  if (!Array.isArray(body['messages'])) return { ok: false, message: 'messages: Field required' };
  return { ok: true, body: { input_tokens: summariseParams(body).inputTokens } };
}
