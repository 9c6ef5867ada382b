/**
 * Lines gathered into pieces for a store's writeLines: a few hundred small lines make one write instead of hundreds,
 * while large lines (a request with a PDF, a long answer) are flushed by size, so a piece never grows toward V8's
 * string limit or doubles a process's memory.
 */
export const PIECE_MAX_LINES = 512;
export const PIECE_MAX_CHARS = 1 << 20;

export class LinePieces {
  private open: string[] = [];
  private chars = 0;

  /** Adds a line; returns a piece (lines joined by '\n') when one is full. */
  add(line: string): string | undefined {
    this.open.push(line);
    this.chars += line.length + 1;
    return this.open.length >= PIECE_MAX_LINES || this.chars >= PIECE_MAX_CHARS ? this.flush() : undefined;
  }

  /** What is left as a piece, if anything. */
  flush(): string | undefined {
    if (this.open.length === 0) return undefined;
    const piece = this.open.join('\n');
    this.open = [];
    this.chars = 0;
    return piece;
  }
}
