/**
 * Lines for a file written after another one from the same pass (finalize's failures.jsonl and invalid-output.jsonl,
 * found while results.jsonl is written): held up to one piece (line-pieces.ts), then written to numbered part blobs,
 * so memory stays one piece whatever the job's size. A rerun writes the same parts again and reads only its own.
 */
import { LinePieces } from '../domain/line-pieces';
import type { BlobStore } from '../store/blob-store';

export class SpilledLines {
  private readonly pieces = new LinePieces();
  private parts = 0;
  /** Lines added so far. */
  count = 0;

  constructor(
    private readonly store: BlobStore,
    private readonly partKey: (n: number) => string,
  ) {}

  async add(line: string): Promise<void> {
    this.count++;
    const piece = this.pieces.add(line);
    if (piece !== undefined) await this.store.writeLines(this.partKey(this.parts++), [piece]);
  }

  /** Every line added, in order (once: the piece still held is given up). */
  async *lines(): AsyncIterable<string> {
    for (let n = 0; n < this.parts; n++) yield* this.store.readLines(this.partKey(n));
    const last = this.pieces.flush();
    if (last !== undefined) yield last;
  }

  /** Deletes the part blobs, once the file is written. */
  async remove(): Promise<void> {
    for (let n = 0; n < this.parts; n++) await this.store.delete(this.partKey(n));
  }
}
