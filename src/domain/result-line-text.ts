/**
 * A succeeded result's message as the text the API sent, so an outcome line can carry it without JSON.stringify
 * building the same text again from the parsed message (a sub-batch's answers are most of what collect writes).
 * Only a line of the shape the API sends is cut: `{"custom_id":…,"result":{"type":"succeeded","message":{…}}}`, no
 * other keys, and the cut checked to be exactly one object. Anything else gives undefined: the caller serializes the
 * parsed message, as before.
 */

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** What a parsed result line looks like, enough to check its keys. */
export interface ParsedResultLine {
  custom_id: string;
  result: { type: string };
}

/** The message's JSON text inside `line` (the raw result line that parsed to `item`), or undefined. */
export function succeededMessageText(line: string, item: ParsedResultLine): string | undefined {
  if (item.result.type !== 'succeeded' || !hasKeys(item, 'custom_id', 'result') || !hasKeys(item.result, 'type', 'message')) return undefined;
  const head = `{"custom_id":${JSON.stringify(item.custom_id)},"result":{"type":"succeeded","message":`;
  if (!line.startsWith(head)) return undefined;
  let end = line.length;
  while (end > head.length && isSpace(line.charCodeAt(end - 1))) end--;
  if (!line.endsWith('}}', end)) return undefined;
  const text = line.slice(head.length, end - 2);
  return endOfObject(text) === text.length ? text : undefined;
}

/** An outcome line: `fields` (an outcome without its message) serialized, then the message's text last. */
export function outcomeLineWithMessage(fields: object, messageText: string): string {
  const json = JSON.stringify(fields);
  return `${json.slice(0, -1)},"message":${messageText}}`;
}

function hasKeys(value: object, first: string, second: string): boolean {
  let n = 0;
  for (const key in value) {
    if (key !== (n === 0 ? first : second)) return false;
    n++;
  }
  return n === 2;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Where the object that opens `text` ends (the index after its closing brace), or -1. The text is part of a line
 * JSON.parse accepted, so only nesting and strings need following; strings are skipped a quote at a time.
 */
function endOfObject(text: string): number {
  if (text.charCodeAt(0) !== OPEN_BRACE) return -1;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
      if (i < 0) return -1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The index of the quote that closes the string opening at `from`, or -1. */
function endOfString(text: string, from: number): number {
  for (let at = text.indexOf('"', from + 1); at >= 0; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}
