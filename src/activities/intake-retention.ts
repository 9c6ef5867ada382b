/**
 * The intake's retention: buffer chunks it is done with are listed (one small blob per batch of them, named by the
 * time), and lists older than the intake's retention are swept: each chunk's requests lose their records (only a
 * record still of that request: a custom_id accepted again after an earlier sweep has a newer one) and their bodies'
 * segments, then the chunk and the list go. Both run twice safely: what is gone is skipped.
 */
import type { ActivityDeps } from './deps';
import type { BufferLine, RequestRecord, RetireChunksInput, SweepIntakeInput, SweepIntakeResult } from '../contracts/activities';
import { intakeKeys } from '../contracts/store-keys';
import { BlobNotFoundError, type BlobStore } from '../store/blob-store';

/** Deletes made at once. */
const PARALLEL_DELETES = 64;

export function intakeRetentionActivities({ store }: ActivityDeps) {
  return {
    async retireIntakeChunks(input: RetireChunksInput): Promise<void> {
      await store.writeJson(input.listKey, input.chunkKeys);
    },

    async sweepIntake(input: SweepIntakeInput): Promise<SweepIntakeResult> {
      const prefix = intakeKeys.retiredLists(input.intake);
      const result: SweepIntakeResult = { lists: 0, chunks: 0, records: 0, segments: 0 };
      for (const listKey of await store.list(prefix)) {
        const atMs = Number(listKey.slice(prefix.length).split('-')[0]);
        // Keys are sorted by time: the first one not yet due ends the sweep.
        if (!(atMs < input.cutoffMs)) break;
        const chunkKeys = (await store.readJson<string[]>(listKey)) ?? [];
        const segments = new Set<string>();
        for (const chunkKey of chunkKeys) {
          const lines = await readChunkIfThere(store, chunkKey);
          const deleted = await inBatches(lines, (l) => deleteRecordOf(store, input.intake, l));
          result.records += deleted.filter(Boolean).length;
          for (const l of lines) segments.add(l.segment);
          await store.delete(chunkKey);
          result.chunks++;
        }
        // The segments of requests retired here: every request in them was cut (or merged, twice the SLA ago).
        await inBatches([...segments], (key) => store.delete(key));
        result.segments += segments.size;
        await store.delete(listKey);
        result.lists++;
      }
      return result;
    },
  };
}

async function deleteRecordOf(store: BlobStore, intake: string, line: BufferLine): Promise<boolean> {
  const key = intakeKeys.requestRecord(intake, line.customId);
  const record = await store.readJson<RequestRecord>(key).catch(() => undefined);
  if (!record || record.segment !== line.segment) return false;
  await store.delete(key);
  return true;
}

async function readChunkIfThere(store: BlobStore, key: string): Promise<BufferLine[]> {
  const lines: BufferLine[] = [];
  try {
    for await (const text of store.readLines(key)) lines.push(JSON.parse(text) as BufferLine);
  } catch (err) {
    // Swept by an earlier attempt of this sweep.
    if (err instanceof BlobNotFoundError || (err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return lines;
}

async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += PARALLEL_DELETES) out.push(...(await Promise.all(items.slice(i, i + PARALLEL_DELETES).map(fn))));
  return out;
}
