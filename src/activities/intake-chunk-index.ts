/**
 * The ids of buffer chunks whose requests have no per-id record yet (admitted with deferred records): an admission
 * looks a custom_id up here as well as in the records, so a duplicate of a request that is only in its chunk is still
 * answered `duplicate`. A chunk is written once under its key (a retried write has the same bytes), so what was read
 * of it stays true: the worker keeps the last few it read, and an admission reads only the chunks it has not seen.
 */
import type { BufferLine } from '../contracts/activities';
import type { BlobStore } from '../store/blob-store';

/** Chunks kept read: the unrecorded ones of an intake are those of the last second or so, a handful. */
const CHUNKS_KEPT = 256;

export type ChunkIds = ReadonlyMap<string, BufferLine>;

export function chunkIndex(store: BlobStore) {
  const kept = new Map<string, ChunkIds>();

  async function idsOf(key: string): Promise<ChunkIds> {
    const known = kept.get(key);
    if (known) return known;
    const ids = new Map<string, BufferLine>();
    for await (const text of store.readLines(key)) {
      const line = JSON.parse(text) as BufferLine;
      // A line that has its record is found by the record.
      if (!line.recorded) ids.set(line.customId, line);
    }
    kept.set(key, ids);
    // Oldest first out: Map keeps insertion order.
    if (kept.size > CHUNKS_KEPT) kept.delete(kept.keys().next().value!);
    return ids;
  }

  return {
    /**
     * A chunk this worker just wrote, kept as written: the next admission (run by the same worker, a local activity)
     * need not read it back.
     */
    remember(key: string, lines: readonly BufferLine[]) {
      kept.set(key, new Map(lines.filter((l) => !l.recorded).map((l) => [l.customId, l])));
      if (kept.size > CHUNKS_KEPT) kept.delete(kept.keys().next().value!);
    },

    /** The buffer line of each custom_id found in the chunks, by custom_id. */
    async lookUp(keys: readonly string[]): Promise<(customId: string) => BufferLine | undefined> {
      const chunks = await Promise.all(keys.map(idsOf));
      return (customId) => {
        for (const ids of chunks) {
          const line = ids.get(customId);
          if (line) return line;
        }
        return undefined;
      };
    },
  };
}
