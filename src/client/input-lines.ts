/**
 * Streams a file's lines as text without ever holding more than one (bounded) line in memory. A line that is
 * not UTF-8 or longer than the limit is reported as such rather than decoded or buffered whole.
 */
import { createReadStream } from 'node:fs';

export type RawLine =
  /** `unterminated`: the file's last line, with no newline after it (a file cut short ends like this). */
  | { line: number; text: string; unterminated?: true }
  | { line: number; problem: 'not-utf8' }
  | { line: number; problem: 'too-long'; bytes: number };

export async function* readInputLines(file: string, maxLineBytes: number): AsyncGenerator<RawLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Buffer[] = [];
  let size = 0;
  let overflow = 0;
  let line = 0;
  const emit = (unterminated = false): RawLine => {
    line++;
    const bytes = size + overflow;
    const chunks = parts;
    parts = [];
    size = 0;
    overflow = 0;
    if (bytes > maxLineBytes) return { line, problem: 'too-long', bytes };
    try {
      const text = decoder.decode(Buffer.concat(chunks));
      return unterminated ? { line, text, unterminated } : { line, text };
    } catch {
      return { line, problem: 'not-utf8' };
    }
  };
  const keep = (piece: Buffer) => {
    if (size + piece.length <= maxLineBytes) {
      parts.push(piece);
      size += piece.length;
    } else overflow += piece.length;
  };
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      keep(chunk.subarray(start, nl));
      yield emit();
      start = nl + 1;
    }
    if (start < chunk.length) keep(chunk.subarray(start));
  }
  if (size + overflow > 0) yield emit(true);
}
