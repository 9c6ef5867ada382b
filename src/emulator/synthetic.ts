/**
 * Synthetic assistant messages. A message depends only on the custom_id and a digest of the params, so the
 * same request gives the same message in a batch and on POST /v1/messages (only `service_tier` differs).
 * The text never contains the prompt: only a digest and filler words.
 */
import { createHash } from 'node:crypto';
import { COUNT_FIELDS } from './params-validation';
import { packedReplyText, packItemsOf } from './pack-answers';
import type { AnswerKind } from './answer-shape';
import { base62, randomFor } from './prng';
import { canonicalJson } from '../domain/canonical-json';

/** What the emulator keeps of a request's params: enough to answer it, not the prompt. */
export interface ParamsSummary {
  /** Hex digest of the canonical params (key order and `stream: false` ignored). */
  digest: string;
  model: string;
  maxTokens: number;
  /** Estimated as the canonical JSON characters of the counted fields / 4 (what count_tokens answers). */
  inputTokens: number;
  /** A packed prompt: how many answers it asks for, as a JSON array (pack-answers.ts). */
  packItems?: number;
  /** Answer a packed prompt one element short (faults.malformedAnswers). */
  malformed?: boolean;
  /** The answer's shape when it is not the usual prose (answer-shape.ts); absent in batches stored before it. */
  answer?: AnswerKind;
}

export interface SyntheticMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: { type: 'text'; text: string }[];
  stop_reason: 'end_turn' | 'max_tokens';
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

export function summariseParams(params: Record<string, unknown>): ParamsSummary {
  const { stream, ...rest } = params;
  const canonical = canonicalJson(stream === false ? rest : params);
  const model = params['model'];
  const maxTokens = params['max_tokens'];
  const packItems = packItemsOf(params);
  return {
    digest: createHash('sha1').update(canonical).digest('hex'),
    model: typeof model === 'string' ? model : '',
    maxTokens: typeof maxTokens === 'number' ? maxTokens : 0,
    inputTokens: inputTokensOf(params),
    ...(packItems !== undefined && { packItems }),
  };
}

/**
 * The input tokens the emulator bills for a request, and answers on POST /v1/messages/count_tokens for the same
 * request: the fields the count endpoint takes (COUNT_FIELDS) as canonical JSON, a token per 4 characters.
 */
export function inputTokensOf(params: Record<string, unknown>): number {
  const counted = Object.fromEntries(COUNT_FIELDS.filter((f) => params[f] !== undefined).map((f) => [f, params[f]]));
  return Math.max(1, Math.ceil(canonicalJson(counted).length / 4));
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
  let outputTokens = Math.max(1, Math.min(summary.maxTokens, 12 + Math.floor(random() * 120)));
  let text = `Synthetic reply ${summary.digest.slice(0, 12)}.`;
  let stopReason: SyntheticMessage['stop_reason'] = 'end_turn';
  const word = () => WORDS[Math.floor(random() * WORDS.length)]!;
  if (summary.packItems !== undefined) {
    // A packed prompt asks for JSON too: its array of answers comes first.
    text = packedReplyText(random, summary.packItems, summary.malformed === true, WORDS);
    outputTokens = Math.max(1, Math.ceil(text.length / 4));
  } else if (summary.answer === undefined || summary.answer === 'prose') {
    while (text.length < outputTokens * 4) text += ` ${word()}`;
  } else {
    text = shapedAnswer(summary.answer, summary.digest, random, word);
    // A structured answer is as long as it is; one that does not fit max_tokens is cut there, as a model's would be.
    outputTokens = Math.max(1, Math.ceil(text.length / 4));
    if (outputTokens > summary.maxTokens) {
      outputTokens = Math.max(1, summary.maxTokens);
      text = text.slice(0, outputTokens * 4);
      stopReason = 'max_tokens';
    }
  }
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: summary.model,
    content: [{ type: 'text', text }],
    stop_reason: stopReason,
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

/** The text of a JSON-shaped answer (answer-shape.ts says which requests get one). */
function shapedAnswer(kind: Exclude<AnswerKind, 'prose'>, digest: string, random: () => number, word: () => string): string {
  if (kind === 'wrong_shape') return JSON.stringify({ note: `synthetic answer ${digest.slice(0, 12)} of the wrong shape` });
  const value = { id: digest.slice(0, 12), label: word(), score: Math.round(random() * 1000) / 1000, tags: [word(), word()] };
  const json = JSON.stringify(value);
  return kind === 'fenced_json' ? '```json\n' + json + '\n```' : json;
}
