/**
 * The intake's retention: buffer chunks it is done with are listed (one small blob per batch of them, named by the
 * time), and lists older than the intake's retention are swept: each chunk's cut requests lose their records (only a
 * record still of that request: a custom_id accepted again after an earlier sweep has a newer one), then the bodies'
 * segments none of whose requests still waits, then the chunks, then the list. One call sweeps a bounded number of
 * lists and says whether more are due. A chunk merged into another is
 * listed too, and its requests may still wait (a far deadline, cuts held back by maxJobsInFlight): their records
 * and segments stay until they are cut and swept themselves. Both run twice safely: what is gone is skipped.
 */
import { Context, heartbeat } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { SWEEP_LISTS_PER_CALL, type BufferLine, type RequestRecord, type RetireChunksInput, type SweepIntakeInput, type SweepIntakeResult } from '../contracts/activities';
import { intakeKeys } from '../contracts/store-keys';
import { BlobNotFoundError, type BlobStore } from '../store/blob-store';

/** Deletes made at once. */
const PARALLEL_DELETES = 64;
/** A sweep call starts no new list after this long, so it ends well inside its start-to-close timeout. */
const SWEEP_BUDGET_MS = 60_000;

export function intakeRetentionActivities({ store }: ActivityDeps) {
  return {
    async retireIntakeChunks(input: RetireChunksInput): Promise<void> {
      await store.writeJson(input.listKey, input.chunkKeys);
    },

    /**
     * Sweeps at most `maxLists` due lists (and none started after the time budget), and says whether more are due.
     * It heartbeats as it goes and stops deleting once canceled: an attempt that timed out must not run on beside its
     * retry, whose deletes may have let a custom_id be accepted again (its new record must not go).
     */
    async sweepIntake(input: SweepIntakeInput): Promise<SweepIntakeResult> {
      const prefix = intakeKeys.retiredLists(input.intake);
      const maxLists = input.maxLists ?? SWEEP_LISTS_PER_CALL;
      const startedMs = Date.now();
      const result: SweepIntakeResult = { lists: 0, chunks: 0, records: 0, segments: 0, more: false };
      for (const listKey of await store.list(prefix)) {
        const atMs = Number(listKey.slice(prefix.length).split('-')[0]);
        // Keys are sorted by time: the first one not yet due ends the sweep.
        if (!(atMs < input.cutoffMs)) break;
        if (result.lists >= maxLists || Date.now() - startedMs >= SWEEP_BUDGET_MS) {
          result.more = true;
          break;
        }
        await sweepList(store, input.intake, listKey, result);
      }
      return result;
    },
  };
}

/**
 * One list: its chunks' cut requests lose their records, then the segments none of whose requests waits go, and only
 * then the chunks and the list (a run stopped midway reads the same chunks again, so no segment is left unchecked).
 */
async function sweepList(store: BlobStore, intake: string, listKey: string, result: SweepIntakeResult): Promise<void> {
  const chunkKeys = (await store.readJson<string[]>(listKey)) ?? [];
  const segments = new Set<string>();
  for (const chunkKey of chunkKeys) {
    const lines = await readChunkIfThere(store, chunkKey);
    const settled = await inBatches(lines, (l) => deleteRecordIfCut(store, intake, l));
    result.records += settled.filter((r) => r === 'deleted').length;
    for (const l of lines) segments.add(l.segment);
  }
  // A segment holds one enqueue call's bodies, which may sit in several chunks and tiers: it goes only once none of
  // its requests still waits for its cut.
  const spent = await inBatches([...segments], async (key) => ((await segmentStillNeeded(store, intake, key)) ? undefined : key));
  const gone = spent.filter((k): k is string => k !== undefined);
  await inBatches(gone, (key) => deleteUnlessCanceled(store, key));
  result.segments += gone.length;
  await inBatches(chunkKeys, (key) => deleteUnlessCanceled(store, key));
  result.chunks += chunkKeys.length;
  await deleteUnlessCanceled(store, listKey);
  result.lists++;
  heartbeat({ lists: result.lists });
}

/** Checked right before each delete: a canceled (timed-out) attempt stops at once. */
function stopIfCanceled(): void {
  const signal = Context.current().cancellationSignal;
  if (signal.aborted) throw signal.reason;
}

async function deleteUnlessCanceled(store: BlobStore, key: string): Promise<void> {
  stopIfCanceled();
  await store.delete(key);
}

/** A request's record goes once it was cut (it names its job); a request still buffered keeps it, and its dedup. */
async function deleteRecordIfCut(store: BlobStore, intake: string, line: BufferLine): Promise<'deleted' | 'waiting' | 'not ours'> {
  const key = intakeKeys.requestRecord(intake, line.customId);
  // An unreadable record is left alone (kept, and not allowed to stop the sweep).
  const record = await store.readJson<RequestRecord>(key).catch(() => undefined);
  if (!record || record.segment !== line.segment) return 'not ours';
  if (record.jobId === undefined) return 'waiting';
  await deleteUnlessCanceled(store, key);
  return 'deleted';
}

/** Whether a request of this segment is still buffered: its record is this segment's and names no job yet. */
async function segmentStillNeeded(store: BlobStore, intake: string, segment: string): Promise<boolean> {
  const ids: string[] = [];
  try {
    for await (const text of store.readLines(segment)) ids.push((JSON.parse(text) as { custom_id: string }).custom_id);
  } catch (err) {
    if (err instanceof BlobNotFoundError || (err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const waiting = await inBatches(ids, async (id) => {
    const record = await store.readJson<RequestRecord>(intakeKeys.requestRecord(intake, id)).catch(() => 'unreadable' as const);
    if (record === 'unreadable') return true; // kept: the body may still be needed
    return record !== undefined && record.segment === segment && record.jobId === undefined;
  });
  return waiting.some(Boolean);
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

/** Runs `fn` PARALLEL_DELETES at a time, heartbeating after each batch (a canceled attempt then learns of it). */
async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += PARALLEL_DELETES) {
    stopIfCanceled();
    out.push(...(await Promise.all(items.slice(i, i + PARALLEL_DELETES).map(fn))));
    heartbeat({ done: out.length });
  }
  return out;
}
