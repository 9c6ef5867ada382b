/**
 * Rows for a template: a CSV file (header row first; parsed by csv-parse: quoted fields, embedded newlines, BOM,
 * CRLF) or a JSONL file of field objects. Streams one row at a time, each with the line of the file where it
 * starts, so messages point at the rows file the user has open.
 */
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse';
import type { InputIssue } from '../domain/input-issue';
import { readInputLines } from './input-lines';

/** A row's fields as text; a field the row lacks is absent. */
export type RowFields = Record<string, string>;
export type Row = { line: number; fields: RowFields } | { line: number; issues: InputIssue[] };

/** CSV when the file name ends in .csv, else JSONL. */
export function rowsFormatOf(file: string): 'csv' | 'jsonl' {
  return /\.csv$/i.test(file) ? 'csv' : 'jsonl';
}

export function readRows(file: string, maxLineBytes: number): AsyncGenerator<Row> {
  return rowsFormatOf(file) === 'csv' ? readCsvRows(file) : readJsonlRows(file, maxLineBytes);
}

async function* readCsvRows(file: string): AsyncGenerator<Row> {
  const lines = new LineCounter();
  const tap = new PassThrough();
  tap.on('data', (chunk: Buffer) => lines.push(chunk));
  const parser = createReadStream(file).pipe(tap).pipe(
    parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true }),
  );
  let header: string[] | undefined;
  let endOfLast = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { bytes: number } }>) {
      const line = lines.lineOfRecordAfter(endOfLast);
      endOfLast = item.info.bytes;
      if (!header) {
        header = item.record.map((h) => h.trim());
        const seen = new Set<string>();
        for (const name of header) {
          if (name === '') yield { line, issues: [{ line, reason: 'the header has an empty column name' }] };
          else if (seen.has(name)) yield { line, issues: [{ line, reason: `the header names column "${name}" twice` }] };
          seen.add(name);
        }
        continue;
      }
      if (item.record.length > header.length) {
        yield { line, issues: [{ line, reason: `has ${item.record.length} fields, the header ${header.length}` }] };
        continue;
      }
      const fields: RowFields = {};
      item.record.forEach((value, i) => (fields[header![i]!] = value));
      yield { line, fields };
    }
  } catch (err) {
    // csv-parse names the line where it gave up (an unclosed quote, a stray quote in an unquoted field).
    const e = err as { code?: string; lines?: number; message?: string };
    const line = typeof e.lines === 'number' ? e.lines : lines.lineOfRecordAfter(endOfLast);
    yield { line, issues: [{ line, reason: `is not valid CSV: ${csvReason(e)}` }] };
  }
}

function csvReason(e: { code?: string; message?: string }): string {
  if (e.code === 'CSV_QUOTE_NOT_CLOSED') return 'a quoted field is never closed';
  if (e.code === 'CSV_INVALID_CLOSING_QUOTE') return 'a closing quote is followed by more text in the same field';
  if (e.code === 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE') return 'a closing quote is followed by more text in the same field';
  // Without the message's quote of the row: rows may be confidential.
  return e.code ?? 'unreadable';
}

async function* readJsonlRows(file: string, maxLineBytes: number): AsyncGenerator<Row> {
  for await (const raw of readInputLines(file, maxLineBytes)) {
    const line = raw.line;
    if ('problem' in raw) {
      yield { line, issues: [{ line, reason: raw.problem === 'not-utf8' ? 'is not valid UTF-8 text' : `is ${raw.bytes} bytes, over the limit of ${maxLineBytes}` }] };
      continue;
    }
    const text = raw.text.replace(/^\uFEFF/, '').replace(/\r$/, '');
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      yield { line, issues: [{ line, reason: 'is not valid JSON' }] };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield { line, issues: [{ line, reason: 'must be a JSON object of fields, like {"id": "r1", "title": "..."}' }] };
      continue;
    }
    const fields: RowFields = {};
    for (const [key, v] of Object.entries(value)) {
      // null means "no value": a placeholder using it is reported missing. Objects and arrays go in as JSON text.
      if (v === null || v === undefined) continue;
      fields[key] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
    yield { line, fields };
  }
}

/**
 * Line numbers of CSV records: the parser reports, per record, the bytes consumed through its end; the record
 * starts at the first byte after the previous one's end that is not a line break (empty lines are skipped).
 * Keeps only the chunks the parser has not passed yet.
 */
class LineCounter {
  private chunks: Buffer[] = [];
  /** Byte offset of chunks[0], and the newlines before the cursor. */
  private base = 0;
  private cursor = 0;
  private newlines = 0;

  push(chunk: Buffer) {
    this.chunks.push(chunk);
  }

  /** The 1-based line of the first byte at or after `offset` that is not \r or \n. */
  lineOfRecordAfter(offset: number): number {
    this.advance(offset, false);
    this.advance(Number.MAX_SAFE_INTEGER, true);
    return this.newlines + 1;
  }

  /** Moves the cursor to `to` (or, with `breaksOnly`, past line breaks only), counting newlines. */
  private advance(to: number, breaksOnly: boolean) {
    while (this.cursor < to) {
      const chunk = this.chunks[0];
      if (!chunk) return;
      const i = this.cursor - this.base;
      if (i >= chunk.length) {
        this.base += chunk.length;
        this.chunks.shift();
        continue;
      }
      const byte = chunk[i]!;
      if (breaksOnly && byte !== 10 && byte !== 13) return;
      if (byte === 10) this.newlines++;
      this.cursor++;
    }
  }
}
