// Wire ids: the custom_id Sluice puts on each request it sends, in place of the user's.
//
// Batches carry no metadata, so the only thing an ended batch says about its owner is the custom_ids in its
// results. A wire id names the job (by its tag), the sub-batch (its shard key) and the request's place in that
// shard, so any ended batch, even one whose create answer was lost or one the audit found unclaimed, tells whose
// requests it holds. The user's custom_id never goes on the wire; results.jsonl shows it, found again from the shard.
//
//   sl_<tag: 22 chars [0-9a-z]>_<shard key>_<index in shard>     e.g. sl_0k3…_s000012_57
//
// The tag is a 106-bit hash of the job id (two 53-bit halves). `wireKeys.tag` in the store maps it back to the job
// id and is created exclusively, so two job ids with the same tag are refused rather than confused.
import { MAX_CUSTOM_ID_LENGTH } from './limits';

const PREFIX = 'sl_';
const TAG_HALF_CHARS = 11; // 2^53 in base 36 needs 11 digits
const WIRE_ID_PATTERN = /^sl_([0-9a-z]{22})_([a-z0-9-]{1,24})_(\d{1,9})$/;

/** Where a wire id points: a job (by tag), a shard of it, and a line of that shard (0-based). */
export interface WireAddress {
  tag: string;
  shardKey: string;
  index: number;
}

/** What the store keeps about a tag: the job it stands for. */
export interface WireTagEntry {
  jobId: string;
}

export const wireKeys = {
  tag: (tag: string) => `wire/${tag}.json`,
};

/** 53 bits of a string (cyrb53, a well-mixed non-cryptographic hash; pure, so workflow and domain code may use it). */
function hash53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The job's tag: fixed width, so every wire id of a job starts the same way. */
export function wireTag(jobId: string): string {
  const half = (seed: number) => hash53(jobId, seed).toString(36).padStart(TAG_HALF_CHARS, '0');
  return half(1) + half(2);
}

export function encodeWireId(tag: string, shardKey: string, index: number): string {
  const id = `${PREFIX}${tag}_${shardKey}_${index}`;
  if (!WIRE_ID_PATTERN.test(id) || id.length > MAX_CUSTOM_ID_LENGTH) {
    throw new RangeError(`encodeWireId: cannot encode shard ${JSON.stringify(shardKey)} line ${index}`);
  }
  return id;
}

/** The address in a wire id, or undefined for any other custom_id (a batch created by hand, or by older Sluice). */
export function decodeWireId(customId: string): WireAddress | undefined {
  const m = WIRE_ID_PATTERN.exec(customId);
  if (!m) return undefined;
  return { tag: m[1]!, shardKey: m[2]!, index: Number(m[3]) };
}
