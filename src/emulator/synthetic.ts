/**
 * Synthetic assistant messages. A message depends only on the custom_id and a digest of the params, so the
 * same request gives the same message in a batch and on POST /v1/messages (only `service_tier` differs).
 * The text never contains the prompt: only a digest and filler words.
 */
import { createHash } from 'node:crypto';
import { base62, randomFor } from './prng';

/** What the emulator keeps of a request's params: enough to answer it, not the prompt. */
export interface ParamsSummary {
  /** Hex digest of the canonical params (key order and `stream: false` ignored). */
  digest: string;
  model: string;
  maxTokens: number;
  /** Estimated as canonical JSON characters / 4. */
  inputTokens: number;
}

export interface SyntheticMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: { type: 'text'; text: string }[];
  stop_reason: 'end_turn';
  stop_sequence: null;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_creation_input_tokens: number;
    cache_read_input_tokens: number;
    /** Present for a request that marks a cached prefix: writes by lifetime. */
    cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
    service_tier: 'batch' | 'standard';
  };
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

export function summariseParams(params: Record<string, unknown>): ParamsSummary {
  const { stream, ...rest } = params;
  const canonical = canonicalJson(stream === false ? rest : params);
  const model = params['model'];
  const maxTokens = params['max_tokens'];
  return {
    digest: createHash('sha1').update(canonical).digest('hex'),
    model: typeof model === 'string' ? model : '',
    maxTokens: typeof maxTokens === 'number' ? maxTokens : 0,
    inputTokens: Math.max(1, Math.ceil(canonical.length / 4)),
  };
}

const WORDS = [
  'batch',
  'signal',
  'river',
  'sluice',
  'gate',
  'stream',
  'ledger',
  'harbor',
  'token',
  'window',
  'quiet',
  'amber',
  'orbit',
  'meadow',
  'lantern',
  'cobalt',
  'ember',
  'summit',
  'willow',
  'granite',
  'vector',
  'canal',
];

/** The deterministic reply to one request. */
export function syntheticMessage(
  customId: string,
  summary: ParamsSummary,
  serviceTier: 'batch' | 'standard',
  cache?: { read: number; write5m: number; write1h: number },
): SyntheticMessage {
  const random = randomFor(0, 'message', customId, summary.digest);
  const id = `msg_01${base62(random, 22)}`;
  const outputTokens = Math.max(1, Math.min(summary.maxTokens, 12 + Math.floor(random() * 120)));
  let text = `Synthetic reply ${summary.digest.slice(0, 12)}.`;
  while (text.length < outputTokens * 4) text += ` ${WORDS[Math.floor(random() * WORDS.length)]}`;
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: summary.model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: summary.inputTokens - (cache ? cache.read + cache.write5m + cache.write1h : 0),
      output_tokens: outputTokens,
      cache_creation_input_tokens: cache ? cache.write5m + cache.write1h : 0,
      cache_read_input_tokens: cache?.read ?? 0,
      ...(cache && { cache_creation: { ephemeral_5m_input_tokens: cache.write5m, ephemeral_1h_input_tokens: cache.write1h } }),
      service_tier: serviceTier,
    },
  };
}
