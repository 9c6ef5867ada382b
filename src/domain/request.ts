// One input line → one validated request, or the reasons it is refused, each naming line and field.
import { z } from 'zod';
import { CUSTOM_ID_PATTERN } from './custom-id';
import { describeValue, formatInteger, formatPath } from './format';
import { findDuplicateKey } from './json-duplicate-keys';
import type { InputIssue } from './input-issue';
import { REQUEST_ENVELOPE_BYTES, utf8Bytes } from './limits';
import { LINEUP_CATALOG, type ModelCatalog } from './models';
import { modelIssues } from './request-model-rules';
import { maxTokens, MessageParamsSchema, model, system, protoKeyIssues, temperature, unknownParamIssues, type MessageParams, type ParamIssue } from './request-params';
import { expect, isPlainObject } from './request-zod';

export { KNOWN_PARAMS, MessageParamsSchema, type MessageParams } from './request-params';

// Its own module, so custom-id.ts can name it without importing this one (which imports custom-id.ts).
export type { InputIssue } from './input-issue';

/**
 * A line's verdict. `bytes` is what the request adds to a create body (its params as JSON plus
 * REQUEST_ENVELOPE_BYTES); senders must serialise with plain JSON.stringify for it to hold.
 */
export type LineResult =
  /** `paramsJson`: JSON.stringify(params), made once to measure the request and reusable to store it. */
  | { ok: true; customId?: string; params: MessageParams; bytes: number; paramsJson: string }
  | { ok: false; errors: InputIssue[] }
  | { ok: 'blank' };

/** Job-level values merged into every request that lacks them. Unknown keys are refused. */
export const JobDefaultsSchema = z.strictObject(
  {
    model: model.optional(),
    max_tokens: maxTokens.optional(),
    system: system.optional(),
    temperature: temperature.optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown job default(s): ${issue.keys.join(', ')}`
        : expect('must be an object')(issue),
  },
);
export type JobDefaults = z.infer<typeof JobDefaultsSchema>;

const LINE_FIELDS = ['custom_id', 'params'] as const;
const CUSTOM_ID = `must match ${CUSTOM_ID_PATTERN.source}`;

const LineSchema = z.object({
  custom_id: z
    .string({ error: expect('must be a string') })
    .regex(CUSTOM_ID_PATTERN, {
      error: (issue) => {
        const id = typeof issue.input === 'string' ? issue.input : '';
        const got = id.length === 0 || id.length > 64 ? `${formatInteger(id.length)} characters` : JSON.stringify(id);
        return `${CUSTOM_ID} (got ${got})`;
      },
    })
    .optional(),
  params: z.looseObject({}, { error: expect('must be an object (a Messages API body)') }),
});

/**
 * Validates one line of a job's JSONL input. `lineNumber` is 1-based and only used in issues.
 * Strips a leading BOM and a trailing \r (CRLF files); whitespace-only lines are 'blank'.
 */
export function validateInputLine(
  text: string,
  lineNumber: number,
  defaults: JobDefaults,
  opts: {
    maxRequestBytes: number;
    /** The models to check against: the account's (read once per job) or, by default, the built-in lineup. */
    models?: ModelCatalog;
  },
): LineResult {
  const cleaned = text.replace(/^\uFEFF/, '').replace(/\r$/, '');
  if (cleaned.trim() === '') return { ok: 'blank' };
  const fail = (reason: string): LineResult => ({ ok: false, errors: [{ line: lineNumber, reason }] });

  let value: unknown;
  try {
    value = JSON.parse(cleaned);
  } catch (err) {
    return fail(`is not valid JSON: ${jsonErrorText(err)}`);
  }
  if (!isPlainObject(value)) {
    return fail(`must be a JSON object like {"custom_id": "...", "params": {...}} (got ${describeValue(value)})`);
  }

  const errors: InputIssue[] = [];
  for (const key of Object.keys(value)) {
    if ((LINE_FIELDS as readonly string[]).includes(key)) continue;
    const guess = LINE_FIELDS.find((known) => closeTo(key, known));
    const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
    errors.push({
      line: lineNumber,
      field: key,
      reason: `is not a known field; a line has only "custom_id" and "params"${hint}`,
    });
  }
  const line = LineSchema.safeParse(value);
  if (!line.success) errors.push(...toIssues(line.error, lineNumber));
  const params = value.params;
  if (!isPlainObject(params)) return { ok: false, errors };

  // A fresh object: the caller's parsed value stays as it was. Own "__proto__" keys from JSON.parse are
  // copied as data by spread, never as a prototype (and reported as unknown parameters); default keys are a
  // fixed list.
  const merged: Record<string, unknown> = { ...params };
  const fromDefaults = new Set<string>();
  for (const key of ['model', 'max_tokens', 'system', 'temperature'] as const) {
    if (!Object.hasOwn(merged, key) && defaults[key] !== undefined) {
      merged[key] = defaults[key];
      fromDefaults.add(key);
    }
  }
  const paramsJson = JSON.stringify(merged);
  // A line that is exactly its value's JSON text has no duplicate key (JSON.stringify writes each key once), so the
  // scan for one is needed only for lines written otherwise (spaces, escapes, other number forms).
  const duplicate = valueJson(value, paramsJson, fromDefaults.size === 0) === cleaned ? undefined : findDuplicateKey(cleaned);
  if (duplicate) {
    errors.push({
      line: lineNumber,
      field: formatPath([...duplicate.path, duplicate.key]),
      reason: 'appears twice in one object: JSON keeps only the last value, so say which one you mean',
    });
  }
  // A "__proto__" key can only come from text that spells it, or escapes a character of it (\u); a default's system
  // blocks are the one merged value with keys of their own.
  const mayHaveProtoKey = cleaned.includes('__proto__') || cleaned.includes('\\u') || fromDefaults.has('system');
  const paramIssues: ParamIssue[] = [...unknownParamIssues(merged), ...(mayHaveProtoKey ? protoKeyIssues(merged) : [])];
  const checked = MessageParamsSchema.safeParse(merged);
  if (!checked.success) errors.push(...toIssues(checked.error, lineNumber, ['params']));
  else paramIssues.push(...modelIssues(merged, opts.models ?? LINEUP_CATALOG));
  for (const issue of paramIssues) {
    const [top] = issue.path;
    const note = typeof top === 'string' && fromDefaults.has(top) && issue.path.length === 1 ? ' (set by the job default)' : '';
    errors.push({ line: lineNumber, field: formatPath(['params', ...issue.path]), reason: issue.reason + note });
  }

  const bytes = utf8Bytes(paramsJson) + REQUEST_ENVELOPE_BYTES;
  if (bytes > opts.maxRequestBytes) {
    errors.push({
      line: lineNumber,
      reason: `request is ${formatInteger(bytes)} bytes, over the limit of ${formatInteger(opts.maxRequestBytes)}`,
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  const customId = typeof value.custom_id === 'string' ? value.custom_id : undefined;
  // Return `merged`, not zod's copy, so params pass through exactly as written.
  return { ok: true, ...(customId === undefined ? {} : { customId }), params: merged as MessageParams, bytes, paramsJson };
}

/**
 * JSON.stringify(value), from the params' text already made when the line is the usual {"custom_id", "params"} in
 * that order and no default was merged (`paramsJson` is then the params' own text).
 */
function valueJson(value: Record<string, unknown>, paramsJson: string, paramsAsWritten: boolean): string {
  const keys = Object.keys(value);
  if (!paramsAsWritten) return JSON.stringify(value);
  if (keys.length === 1 && keys[0] === 'params') return `{"params":${paramsJson}}`;
  if (keys.length === 2 && keys[0] === 'custom_id' && keys[1] === 'params' && typeof value.custom_id === 'string') {
    return `{"custom_id":${JSON.stringify(value.custom_id)},"params":${paramsJson}}`;
  }
  return JSON.stringify(value);
}

function toIssues(error: z.ZodError, line: number, prefix: PropertyKey[] = []): InputIssue[] {
  return error.issues.map((issue) => {
    const field = formatPath([...prefix, ...issue.path]);
    return field === '' ? { line, reason: issue.message } : { line, field, reason: issue.message };
  });
}

/**
 * V8 quotes the start of the bad text ("Unexpected token '}', "{"a": }" is not valid JSON", or cut short:
 * "..., "{"a": SECRET pro"... is not valid JSON"); drop the quote so prompt text stays out of issues, and escape
 * control characters (a NUL or ESC from a binary file would otherwise reach the terminal raw).
 */
function jsonErrorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const text = message.replace(/, ".*"(\.\.\.)? is not valid JSON$/s, '');
  return Array.from(text, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\u${code.toString(16).padStart(4, '0')}` : c;
  }).join('');
}

/** A likely typo: one edit away, or one is the other plus or minus a trailing "s". */
function closeTo(a: string, b: string): boolean {
  const x = a.toLowerCase();
  if (x === b || x + 's' === b || x === b + 's') return true;
  if (Math.abs(x.length - b.length) > 1) return false;
  let i = 0;
  while (i < x.length && x[i] === b[i]) i++;
  return x.slice(i + 1) === b.slice(i + 1) || x.slice(i + 1) === b.slice(i) || x.slice(i) === b.slice(i + 1);
}
