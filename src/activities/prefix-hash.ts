/**
 * Hashes of prompt-cache prefixes for the plan activity: a chain over a request's leading blocks (model first), so
 * the prefix of k blocks has one short key and no prompt text is kept; and a count-min sketch that counts how many
 * requests share each prefix in fixed memory (4 MB whatever the job's size), for --cache-prefix.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json';
import { unmarked, type LeadingBlock } from '../domain/cache-prefix';

/**
 * Keys of the leading prefixes of a request: element k − 1 stands for blocks [0, k). The model is part of every key
 * (a cache is the model's own). `upTo` limits how many are computed.
 */
export function prefixChain(model: string, blocks: readonly LeadingBlock[], upTo = blocks.length): Buffer[] {
  const out: Buffer[] = [];
  let previous = createHash('sha256').update(`model\n${model}`).digest();
  for (let i = 0; i < Math.min(upTo, blocks.length); i++) {
    previous = createHash('sha256').update(previous).update(canonicalJson(unmarked(blocks[i]!.block))).digest();
    out.push(previous);
  }
  return out;
}

export const groupKeyOf = (digest: Buffer) => digest.toString('base64url').slice(0, 22);

const ROWS = 4;
const WIDTH_BITS = 20;

/** Counts of digests, never under the true count; over it only when four 20-bit slices all collide. */
export class PrefixSketch {
  private readonly rows = Array.from({ length: ROWS }, () => new Uint8Array(1 << WIDTH_BITS));

  private slot(digest: Buffer, row: number): number {
    return digest.readUInt32BE(row * 4) >>> (32 - WIDTH_BITS);
  }

  add(digest: Buffer): void {
    this.rows.forEach((counts, row) => {
      const i = this.slot(digest, row);
      if (counts[i]! < 255) counts[i]!++;
    });
  }

  /** At least how many were added (saturates at 255). */
  count(digest: Buffer): number {
    return Math.min(...this.rows.map((counts, row) => counts[this.slot(digest, row)]!));
  }
}
