/**
 * Rows + template → the lines prepareInput validates: one ordinary request line per row, or, with `pack`, one
 * packed request per N rows that carries each row's own single-row request (sent alone if the pack's answer is
 * unusable). Line numbers are the rows file's, so every message points at the row.
 */
import type { InputIssue } from '../domain/input-issue';
import { missingFieldIssues, packIssues, renderPacked, renderSingle, type Template } from '../domain/template';
import { readRows, type RowFields } from './rows-file';
import type { RawLine } from './input-lines';

/** A row turned into a request line (text as in a JSONL input), a packed request with its rows, or issues. */
export type SourceLine =
  | RawLine
  | { line: number; issues: InputIssue[] }
  | { line: number; text: string; rows: { line: number; text: string }[] };

export interface TemplateInputOptions {
  rowsFile: string;
  template: Template;
  /** The column whose value becomes the row's custom_id (default: `id`, else `custom_id`, else derived from the row's place). */
  idColumn?: string;
  /** Rows per prompt; absent or 1: one request per row. */
  pack?: number;
  maxLineBytes: number;
}

export const DEFAULT_ID_COLUMNS = ['id', 'custom_id'] as const;

/** Template problems that --pack makes (fields outside the per-item block), located in the template. */
export function templatePackIssues(t: Template, pack: number | undefined): InputIssue[] {
  return pack !== undefined && pack > 1 ? packIssues(t) : [];
}

export async function* templateLines(o: TemplateInputOptions): AsyncGenerator<SourceLine> {
  const packing = o.pack !== undefined && o.pack > 1;
  let idColumn = o.idColumn;
  let chosen = o.idColumn !== undefined;
  const firstLineOfKey = new Map<string, number>();
  let pending: { line: number; fields: RowFields; key?: string }[] = [];

  const requestText = (key: string | undefined, content: string) =>
    JSON.stringify({ ...(key === undefined ? {} : { custom_id: key }), params: { messages: [{ role: 'user', content }] } });
  function* flush(): Generator<SourceLine> {
    if (pending.length === 0) return;
    const rows = pending.map((r) => ({ line: r.line, text: requestText(r.key, renderSingle(o.template, r.fields)) }));
    yield { line: pending[0]!.line, text: requestText(undefined, renderPacked(o.template, pending.map((r) => r.fields))), rows };
    pending = [];
  }

  for await (const row of readRows(o.rowsFile, o.maxLineBytes)) {
    if ('issues' in row) {
      yield row;
      continue;
    }
    if (!chosen) {
      idColumn = DEFAULT_ID_COLUMNS.find((c) => row.fields[c] !== undefined);
      chosen = true;
    }
    const issues = missingFieldIssues(o.template, row.fields, row.line);
    let key: string | undefined;
    if (idColumn !== undefined) {
      key = row.fields[idColumn];
      const field = `column "${idColumn}"`;
      if (key === undefined || key === '') {
        issues.push({ line: row.line, field, reason: `missing: every row needs its key${o.idColumn ? ' (--id-column)' : ''}` });
      } else {
        const first = firstLineOfKey.get(key);
        if (first !== undefined) issues.push({ line: row.line, field, reason: `duplicate key ${JSON.stringify(key)}, first on line ${first}` });
        else firstLineOfKey.set(key, row.line);
      }
    }
    if (issues.length > 0) {
      yield { line: row.line, issues };
      continue;
    }
    if (!packing) {
      yield { line: row.line, text: requestText(key, renderSingle(o.template, row.fields)) };
      continue;
    }
    pending.push({ line: row.line, fields: row.fields, key });
    if (pending.length >= o.pack!) yield* flush();
  }
  yield* flush();
}
