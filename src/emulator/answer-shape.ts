/**
 * What shape a synthetic answer takes, decided from the request alone (deterministic, like every other fate):
 * - a request whose system prompt or messages contain the word "JSON" (any case) is answered with a JSON object,
 *   `{"id": "<digest>", "label": "<word>", "score": <0..1>, "tags": ["<word>", ...]}`;
 * - `faults.badAnswers` rules aim other answers at chosen requests (by custom_id or by message content, as
 *   `errorCustomIds` does): `prose` (plain text, not JSON), `wrong_shape` (JSON, but `{"note": ...}` without the
 *   usual fields) or `fenced_json` (the JSON object inside a Markdown ```json fence);
 * - every other request gets the usual prose reply.
 */
import type { FaultsConfig } from './config';

export type AnswerKind = 'json' | 'prose' | 'wrong_shape' | 'fenced_json';

const ASKS_FOR_JSON = /\bjson\b/i;

/** True when the request's system prompt or messages mention JSON. */
export function asksForJson(params: Record<string, unknown>): boolean {
  return ASKS_FOR_JSON.test(JSON.stringify([params['system'] ?? null, params['messages'] ?? null]));
}

export interface CompiledAnswerRules {
  rules: { regex: RegExp; in: 'custom_id' | 'messages'; answer: Exclude<AnswerKind, 'json'> }[];
}

export function compileAnswerRules(faults: FaultsConfig): CompiledAnswerRules {
  return { rules: faults.badAnswers.map((r) => ({ regex: new RegExp(r.pattern), in: r.in, answer: r.answer })) };
}

/** The answer kind for one request, or undefined for the usual prose reply. */
export function answerKindOf(customId: string, params: Record<string, unknown>, compiled: CompiledAnswerRules): AnswerKind | undefined {
  let messagesText: string | undefined;
  const rule = compiled.rules.find((r) =>
    r.regex.test(r.in === 'custom_id' ? customId : (messagesText ??= JSON.stringify(params['messages'] ?? null))),
  );
  if (rule) return rule.answer;
  return asksForJson(params) ? 'json' : undefined;
}
