/**
 * Packed prompts (`--pack N`): N rows in one request, answered as one JSON array. Pure rules: the id a pack
 * goes by inside Sluice, and whether an answer is usable (else its rows are sent again one by one).
 */

/** One row inside a packed request: its own key and line, and the request it becomes when retried alone. */
export interface PackedRow<P = unknown> {
  custom_id: string;
  line: number;
  /** The row's single-row prompt (validated like any request), sent if the pack's answer is unusable. */
  params: P;
}

/**
 * A pack's id inside Sluice. The dot is not allowed in a user's custom_id, so it never collides with a row's key;
 * it never goes on the wire either (wire ids do).
 */
export function packId(index: number): string {
  return `pack.${String(index + 1).padStart(6, '0')}`;
}

export type PackAnswer = { ok: true; answers: unknown[] } | { ok: false; reason: string };

/**
 * The answers in a packed reply: its text must be a JSON array of exactly `items` elements (a ```json fence
 * around it is tolerated, as models add one).
 */
export function parsePackAnswer(text: string, items: number): PackAnswer {
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/.exec(text.trim());
  const body = (fenced ? fenced[1]! : text).trim();
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'the answer is not JSON' };
  }
  if (!Array.isArray(value)) return { ok: false, reason: 'the answer is not a JSON array' };
  if (value.length !== items) return { ok: false, reason: `the answer has ${value.length} elements for ${items} items` };
  return { ok: true, answers: value };
}

/** The text of a Messages API reply: its text blocks joined. */
export function messageText(message: unknown): string {
  const content = (message as { content?: unknown } | null | undefined)?.content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b): b is { type: 'text'; text: string } => (b as { type?: unknown }).type === 'text' && typeof (b as { text?: unknown }).text === 'string')
    .map((b) => b.text)
    .join('');
}
