/**
 * Reading wire ids back: which job and which of its requests (the user's custom_id) a custom_id seen on the wire
 * stands for, through the store (the tag index, then the shard file). For reports, audits, benches and tests.
 */
import { jobKeys, type ShardLine } from '../domain/job';
import { decodeWireId, wireKeys, type WireTagEntry } from '../domain/wire-id';
import type { BlobStore } from '../store/blob-store';

/** The user's custom_id a wire id stands for, with its job; undefined when it is not a wire id Sluice made. */
/** `cache` keeps shard files' custom_ids between calls (pass one Map for many ids). */
export async function userIdOf(
  store: BlobStore,
  wireId: string,
  cache = new Map<string, string[]>(),
): Promise<{ jobId: string; customId: string } | undefined> {
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

