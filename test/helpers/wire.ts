/**
 * Emulator stats are keyed by what went on the wire: Sluice's wire ids. These helpers read them back as the user's
 * custom_ids (through the store: tag → job, shard file → line), so tests can say "this request was sent twice".
 */
import type { EmulatorStats } from '../../src/emulator/stats';
import { jobKeys, type ShardLine } from '../../src/domain/job';
import { decodeWireId, wireKeys, type WireTagEntry } from '../../src/domain/wire-id';
import type { BlobStore } from '../../src/store/blob-store';

export interface UserSends {
  jobId: string;
  customId: string;
  batch: number;
  sync: number;
}

/** The user's custom_id a wire id stands for, with its job; undefined when it is not a wire id Sluice made. */
export async function userIdOf(store: BlobStore, wireId: string, cache = new Map<string, string[]>()): Promise<{ jobId: string; customId: string } | undefined> {
  const address = decodeWireId(wireId);
  if (!address) return undefined;
  const entry = await store.readJson<WireTagEntry>(wireKeys.tag(address.tag));
  if (!entry) return undefined;
  const key = jobKeys.shard(entry.jobId, address.shardKey);
  let ids = cache.get(key);
  if (!ids) {
    ids = [];
    for await (const text of store.readLines(key)) ids.push((JSON.parse(text) as ShardLine).custom_id);
    cache.set(key, ids);
  }
  const customId = ids[address.index];
  return customId === undefined ? undefined : { jobId: entry.jobId, customId };
}

/**
 * Sends per user custom_id (summed over the wire ids of every attempt), keyed `custom_id` (or `jobId/custom_id`
 * with `byJob`). Sync calls are keyed by the header Sluice sends, which is the user's custom_id.
 */
export async function sendsByCustomId(store: BlobStore, stats: EmulatorStats, opts: { byJob?: boolean } = {}): Promise<Record<string, { batch: number; sync: number }>> {
  const out: Record<string, { batch: number; sync: number }> = {};
  const cache = new Map<string, string[]>();
  for (const [wireId, sends] of Object.entries(stats.submissions)) {
    const user = await userIdOf(store, wireId, cache);
    const key = user ? (opts.byJob ? `${user.jobId}/${user.customId}` : user.customId) : wireId;
    const entry = (out[key] ??= { batch: 0, sync: 0 });
    entry.batch += sends.batch;
    entry.sync += sends.sync;
  }
  return out;
}

/** Wire ids sent in more than one batch: requests paid for twice. */
export function wireIdsSentTwice(stats: EmulatorStats): string[] {
  return Object.entries(stats.submissions)
    .filter(([id, s]) => decodeWireId(id) !== undefined && s.batch > 1)
    .map(([id]) => id);
}
