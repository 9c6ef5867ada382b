/**
 * Output checks: is an answer's text JSON, and does the parsed value satisfy the job's JSON Schema? Pure: the
 * schema validator is passed in (src/domain/output-schema.ts compiles it). The verdicts carry a short code and a
 * message that never quotes the answer (JSON.parse's own messages do quote it), so they may be counted in workflow
 * history and written beside results without leaking what the model said.
 *
 * A fence is tolerated: an answer that is exactly one Markdown code block (```json ... ``` or ``` ... ```), with
 * only white space around it, is checked by its content, because models wrap JSON that way even when told not to.
 * Prose before or after the JSON is not tolerated: a program reading the answer would fail on it too.
 */

/** What the job checks answers for; absent on a job that takes any answer. */
export interface OutputCheckSpec {
  expect: 'json';
  /** A JSON Schema (already validated at the edge) the parsed answer must satisfy. */
  schema?: unknown;
}

export type OutputVerdict = { ok: true } | { ok: false; code: OutputErrorCode; message: string };

export type OutputErrorCode = 'no_text' | 'not_json' | 'schema_mismatch';

/** A compiled schema: the errors of one value, empty when it is valid. */
export type SchemaCheck = (value: unknown) => SchemaViolation[];

export interface SchemaViolation {
  /** JSON pointer into the answer ("" for the whole value). */
  instancePath: string;
  message: string;
}

/** Violations listed in one message before "and N more". */
const VIOLATIONS_SHOWN = 3;
/** Pointers into the answer are cut at this length: they are built from the answer's own keys. */
const POINTER_CHARS = 80;

/** The text of an assistant message: its text blocks joined, or undefined when it has none. */
export function answerText(message: unknown): string | undefined {
  const content = (message as { content?: unknown } | null | undefined)?.content;
  if (!Array.isArray(content)) return undefined;
  const texts = content
    .filter((b): b is { type: 'text'; text: string } => (b as { type?: unknown })?.type === 'text' && typeof (b as { text?: unknown }).text === 'string')
    .map((b) => b.text);
  return texts.length === 0 ? undefined : texts.join('');
}

const FENCE = /^\s*```[A-Za-z0-9_-]*[ \t]*\r?\n([\s\S]*?)\r?\n?```\s*$/;

/** The JSON text of an answer: the content of a single fenced block that is the whole answer, else the answer. */
export function unfence(text: string): string {
  const m = FENCE.exec(text);
  return m ? m[1]! : text;
}

/** Parses an answer's text as JSON (fence tolerated); the error never quotes the text. */
export function parseAnswer(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const body = unfence(text);
  if (body.trim() === '') return { ok: false, message: 'the answer is empty' };
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    return { ok: false, message: `the answer's text (${body.length} characters) does not parse as JSON` };
  }
}

/** Checks one message against the job's check. */
export function checkOutput(message: unknown, schema: SchemaCheck | undefined): OutputVerdict {
  const text = answerText(message);
  if (text === undefined) return { ok: false, code: 'no_text', message: 'the answer has no text block' };
  const parsed = parseAnswer(text);
  if (!parsed.ok) return { ok: false, code: 'not_json', message: parsed.message };
  if (!schema) return { ok: true };
  const violations = schema(parsed.value);
  if (violations.length === 0) return { ok: true };
  return { ok: false, code: 'schema_mismatch', message: describeViolations(violations) };
}

export function describeViolations(violations: readonly SchemaViolation[]): string {
  const shown = violations.slice(0, VIOLATIONS_SHOWN).map((v) => `${pointer(v.instancePath)}: ${v.message}`);
  const more = violations.length > VIOLATIONS_SHOWN ? `; and ${violations.length - VIOLATIONS_SHOWN} more` : '';
  return `does not match the schema: ${shown.join('; ')}${more}`;
}

function pointer(path: string): string {
  if (path === '') return '(the answer)';
  return path.length > POINTER_CHARS ? `${path.slice(0, POINTER_CHARS)}…` : path;
}

/**
 * Why a schema can accept no JSON value at all, or undefined: `false`, `{"not": {}}`, `{"not": true}`, or an
 * empty `enum`. Such a schema disagrees with `--expect json`: every answer would fail, every retry be paid for.
 */
export function acceptsNothing(schema: unknown): string | undefined {
  if (schema === false) return 'the schema is `false`, which no value satisfies';
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const s = schema as Record<string, unknown>;
  const not = s['not'];
  if (not === true || (not !== null && typeof not === 'object' && !Array.isArray(not) && Object.keys(not).length === 0)) {
    return 'the schema says `not` of a schema that accepts everything, so no value satisfies it';
  }
  if (Array.isArray(s['enum']) && s['enum'].length === 0) return 'the schema has an empty `enum`, which no value satisfies';
  return undefined;
}
