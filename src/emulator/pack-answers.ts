/**
 * Packed prompts (Sluice's `--pack`): a prompt that asks for "a JSON array of exactly N elements" is answered with
 * one, deterministically; a request matching a `faults.malformedAnswers` rule gets an array one element short
 * instead, so tests can aim an unusable answer at a chosen pack. The sentence matched is the one Sluice writes
 * (src/domain/template.ts packInstruction); the answers never quote the prompt.
 */
import type { Random } from './prng';

const ASKED = /JSON array of exactly (\d+) elements/;

/** The number of answers the last user message asks for, if it is a packed prompt. */
export function packItemsOf(params: Record<string, unknown>): number | undefined {
  const messages = params['messages'];
  if (!Array.isArray(messages)) return undefined;
  const last = messages.at(-1) as { role?: unknown; content?: unknown } | undefined;
  if (last?.role !== 'user') return undefined;
  const text = typeof last.content === 'string'
    ? last.content
    : Array.isArray(last.content)
      ? last.content.map((b: { type?: unknown; text?: unknown }) => (b.type === 'text' && typeof b.text === 'string' ? b.text : '')).join('')
      : '';
  const m = ASKED.exec(text);
  const n = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Whether a malformedAnswers rule (a RegExp over the messages as JSON text) aims at these params. */
export function malformedFor(params: Record<string, unknown>, patterns: readonly RegExp[]): boolean {
  if (patterns.length === 0) return false;
  const text = JSON.stringify(params['messages'] ?? null);
  return patterns.some((p) => p.test(text));
}

/** The reply text: a JSON array of `items` short answers, or (malformed) one element short. */
export function packedReplyText(random: Random, items: number, malformed: boolean, words: readonly string[]): string {
  const count = malformed ? items - 1 : items;
  const answers = Array.from({ length: count }, (_, i) => `answer ${i + 1}: ${words[Math.floor(random() * words.length)]}`);
  return JSON.stringify(answers);
}
