/**
 * The one input checker: every JSONL line a job reads, from `sluice run`, a child job's staging (prepare-input.ts)
 * or an audit's nightly snapshot (snapshot-input.ts), is judged here. One place decides the errors (each with its
 * line and field), the merge of job defaults and the custom_id a line without one gets: its 0-based index among
 * the non-blank lines of the whole input, bad lines included, so removing or fixing a bad line never shifts the
 * ids of the lines after it differently in a run and in an audit.
 */
import { deriveCustomId, DuplicateTracker } from '../domain/custom-id';
import type { NormalizedRequest } from '../domain/job';
import { packId, type PackedRow } from '../domain/pack';
import { MAX_BATCH_BODY_BYTES } from '../domain/limits';
import type { ModelCatalog } from '../domain/models';
import { validateInputLine, type InputIssue, type JobDefaults, type LineResult } from '../domain/request';
import { isPlainObject } from '../domain/request-zod';
import { readInputLines } from './input-lines';
import type { SourceLine } from './template-input';

export interface InputCheckOptions {
  defaults?: JobDefaults;
  /** Largest single request (default: what fits in one create body). */
  maxRequestBytes?: number;
  /** The account's models (readModelCatalog); default: the built-in lineup, which lets unknown names through. */
  models?: ModelCatalog;
  /** A line must name its own custom_id (an intake's idempotency key): the reason told when one does not. */
  requireCustomId?: string;
  /** Top-level fields a line may have beyond custom_id and params (an intake's tier, deadline, ...). */
  extraFields?: ExtraFields;
}

export interface ExtraFields {
  names: readonly string[];
  /** How a line lists what it may have, in the issue about a field that is none of them. */
  known: string;
  /** The issues of the extra fields a line has; `fields` holds only those present. */
  check: (fields: Record<string, unknown>, line: number) => InputIssue[];
}

type ValidLine = Extract<LineResult, { ok: true }>;

/**
 * One non-blank line, judged: a request ready to store (with its extra fields, when the checker allows some), or
 * the line's problems (`line` within its file).
 */
export type CheckedLine =
  /** `text`: the request's JSON text, when the checker already has it (JSON.stringify(request) otherwise). */
  | { request: NormalizedRequest; extra?: Record<string, unknown>; text?: string }
  | { rejected: { line: number; issues: InputIssue[] } };

export interface CheckFileOptions {
  /** Lines of the files checked before this one: a request's `line` counts across the files of one input. */
  lineOffset?: number;
  /** Called for every line read, blank ones too (an audit counts a file's lines and heartbeats with it). */
  onLine?: (line: number) => void;
}

/** Holds what spans the files of one input: the derived-id index and the custom_ids seen. */
export class InputChecker {
  readonly maxRequestBytes: number;
  private index = 0;
  private readonly tracker = new DuplicateTracker();
  private packs = 0;

  constructor(private readonly options: InputCheckOptions = {}) {
    this.maxRequestBytes = options.maxRequestBytes ?? MAX_BATCH_BODY_BYTES - 64;
  }

  /** The lines of a JSONL file. */
  checkFile(file: string, o: CheckFileOptions = {}): AsyncGenerator<CheckedLine> {
    return this.checkLines(readInputLines(file, this.maxRequestBytes + 1024), o);
  }

  /** Lines of a JSONL file, or made from rows and a template (templateLines), packs included. */
  async *checkLines(source: AsyncIterable<SourceLine>, o: CheckFileOptions = {}): AsyncGenerator<CheckedLine> {
    const offset = o.lineOffset ?? 0;
    const max = this.maxRequestBytes;
    for await (const raw of source) {
      o.onLine?.(raw.line);
      if ('issues' in raw) {
        this.index++; // a row that could not become a request still takes its place
        yield { rejected: { line: raw.line, issues: raw.issues } };
        continue;
      }
      if ('rows' in raw) {
        yield* this.checkPack(raw);
        continue;
      }
      if ('problem' in raw) {
        this.index++; // a line that is not text still takes its place among the non-blank lines
        const reason =
          raw.problem === 'not-utf8'
            ? 'is not valid UTF-8 text'
            : `line is ${raw.bytes.toLocaleString('en-US')} bytes, over the request limit of ${max.toLocaleString('en-US')}`;
        yield { rejected: { line: raw.line, issues: [{ line: raw.line, reason }] } };
        continue;
      }
      const v = this.validateLine(raw.text, raw.line);
      if (v.ok === 'blank') continue;
      const lineIndex = this.index++;
      if (v.ok === false) {
        yield { rejected: { line: raw.line, issues: raw.unterminated ? v.errors.map(cutShortHint) : v.errors } };
        continue;
      }
      const customId = v.customId ?? deriveCustomId(lineIndex);
      // Duplicates are told apart by the line across files; the issue names the line within this file.
      const dup = this.tracker.check(customId, offset + raw.line, v.customId === undefined);
      if (dup) {
        yield { rejected: { line: raw.line, issues: [{ ...dup, line: raw.line }] } };
        continue;
      }
      const request = { custom_id: customId, line: offset + raw.line, params: v.params };
      // JSON.stringify(request), from the params' text the check made: the params are not serialised twice.
      const text = `{"custom_id":${JSON.stringify(customId)},"line":${request.line},"params":${v.paramsJson}}`;
      yield 'extra' in v && v.extra ? { request, extra: v.extra, text } : { request, text };
    }
  }

  /** A JSONL line: the job line's rules, then what the options add (a required custom_id, extra fields). */
  private validateLine(text: string, line: number): LineResult | (ValidLine & { extra?: Record<string, unknown> }) {
    const v = this.validate(text, line);
    const { requireCustomId, extraFields } = this.options;
    if (v.ok === 'blank' || (requireCustomId === undefined && extraFields === undefined)) return v;
    const value = parseObject(text);
    if (value === undefined) return v; // not a JSON object: the job line's words say so
    const extra: Record<string, unknown> = {};
    for (const name of extraFields?.names ?? []) if (Object.hasOwn(value, name)) extra[name] = value[name];
    const issues: InputIssue[] = [];
    for (const e of v.ok === false ? v.errors : []) {
      const unknownField = e.field !== undefined && Object.hasOwn(value, e.field) && e.reason.startsWith('is not a known field');
      if (!unknownField || extraFields === undefined) issues.push(e);
      else if (!Object.hasOwn(extra, e.field!)) issues.push({ ...e, reason: `is not a known field; ${extraFields.known}` });
    }
    let base: LineResult = v;
    if (v.ok === false && issues.length === 0) {
      // Only the allowed extras were unknown to the job line: the request is the line without them.
      base = this.validate(JSON.stringify(Object.fromEntries(Object.entries(value).filter(([k]) => !Object.hasOwn(extra, k)))), line);
      if (base.ok === false) issues.push(...base.errors);
    }
    if (base.ok === true && base.customId === undefined && requireCustomId !== undefined) {
      issues.push({ line, field: 'custom_id', reason: requireCustomId });
    }
    issues.push(...(extraFields?.check(extra, line) ?? []));
    if (issues.length || base.ok !== true) return { ok: false, errors: issues };
    return { ...base, extra };
  }

  private validate(text: string, line: number) {
    return validateInputLine(text, line, this.options.defaults ?? {}, { maxRequestBytes: this.maxRequestBytes, models: this.options.models });
  }

  /** A pack of rows: every row valid on its own (it may be sent alone), and the packed prompt valid too. */
  private *checkPack(raw: Extract<SourceLine, { rows: unknown }>): Generator<CheckedLine> {
    const rows: PackedRow<NormalizedRequest['params']>[] = [];
    const rejected: { line: number; issues: InputIssue[] }[] = [];
    for (const row of raw.rows) {
      const v = this.validate(row.text, row.line);
      const rowIndex = this.index++;
      if (v.ok !== true) {
        if (v.ok === false) rejected.push({ line: row.line, issues: v.errors });
        else rejected.push({ line: row.line, issues: [{ line: row.line, reason: 'is blank' }] });
        continue;
      }
      const customId = v.customId ?? deriveCustomId(rowIndex);
      const dup = this.tracker.check(customId, row.line, v.customId === undefined);
      if (dup) {
        rejected.push({ line: row.line, issues: [dup] });
        continue;
      }
      rows.push({ custom_id: customId, line: row.line, params: v.params });
    }
    const bad = rejected.length > 0;
    const v = this.validate(raw.text, raw.line);
    if (v.ok === false && !bad) {
      rejected.push({ line: raw.line, issues: v.errors.map((e) => ({ ...e, reason: `the packed prompt of the rows from this line: ${e.reason}` })) });
    }
    if (bad || v.ok !== true) {
      // The pack goes as a whole or not at all: its good rows are rejected with it, and said so, never dropped.
      const why = bad ? 'a row of its pack is bad' : 'its packed prompt is bad';
      for (const row of rows) {
        if (row.line !== raw.line || bad) rejected.push({ line: row.line, issues: [{ line: row.line, reason: `left out with the pack starting on line ${raw.line}: ${why}` }] });
      }
      for (const r of rejected) yield { rejected: r };
      return;
    }
    yield { request: { custom_id: packId(this.packs++), line: raw.line, params: v.params, pack: rows } };
  }
}

/** The line as a JSON object, or undefined when it is not one (its issue is the job line's). */
function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text.replace(/^\uFEFF/, '').replace(/\r$/, ''));
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A last line that is not JSON and has no newline after it is most likely a file cut short: say so. */
function cutShortHint(issue: InputIssue): InputIssue {
  if (!issue.reason.startsWith('is not valid JSON')) return issue;
  return { ...issue, reason: `${issue.reason} (the last line has no newline after it: was the file cut short?)` };
}
