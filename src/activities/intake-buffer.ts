/**
 * The store-backed intake's buffer: admitting requests (one durable record per custom_id, claimed exclusively, so a
 * custom_id is accepted once for the intake's whole life), writing what was accepted as buffer chunks, cutting chunk
 * lines into a sub-batch job's input, and merging chunks so the workflow keeps a handful of summaries. Each can run
 * twice: a record claimed by the same segment is its own, and every blob is rewritten with the same bytes.
 */
import type { ActivityDeps } from './deps';
import type {
  AdmitDeferredInput,
  AdmitGroupsInput,
  AdmitInput,
  AdmitResult,
  BufferLine,
  ChunkRef,
  CompactInput,
  CutChunksInput,
  JobSummary,
  RecordChunksInput,
  RecordChunksResult,
  RequestRecord,
} from '../contracts/activities';
import { intakeKeys } from '../contracts/store-keys';
import { planBuffered } from '../domain/intake';
import { jobKeys, type NormalizedRequest } from '../domain/job';
import { BlobNotFoundError, type BlobStore } from '../store/blob-store';
import { outcomesIn } from '../store/outcomes';
import { chunkIndex } from './intake-chunk-index';

/**
 * Records claimed (or written) at once. Each claim is a few file operations, each waiting for a turn of the worker's
 * busy main thread: a group of 400 in rounds of 64 waited seven times as many turns as in one round. 256 stays well
 * under a 1,024 file-handle limit.
 */
const PARALLEL_CLAIMS = 256;

export function intakeBufferActivities({ store }: Pick<ActivityDeps, 'store'>) {
  const index = chunkIndex(store);
  return {
    admitIntakeRequests(input: AdmitInput): Promise<AdmitResult> {
      const { segment, items, ...rest } = input;
      return admitGroups(store, { ...rest, groups: [{ segment, items }] });
    },

    /** The group commit: the updates that arrived together, admitted with one set of chunk writes. */
    admitIntakeGroups(input: AdmitGroupsInput): Promise<AdmitResult> {
      return admitGroups(store, input);
    },

    /**
     * The group commit with deferred records. A type of its own: a worker that predates it fails it as not registered
     * (and it is retried on one that has it) rather than run it as admitIntakeGroups, which would claim records
     * without looking in the unrecorded chunks and accept a second time an id that is only in one of them.
     */
    admitIntakeGroupsDeferred(input: AdmitDeferredInput): Promise<AdmitResult> {
      return admitDeferred(store, index, input);
    },

    /**
     * The records of lines admitted with deferred records, off the enqueue's path. Each is created only if missing:
     * a cut that got there first wrote the record naming its job, which stays. Run twice, the second writes nothing.
     */
    async recordIntakeChunks(input: RecordChunksInput): Promise<RecordChunksResult> {
      const result: RecordChunksResult = { written: 0, recorded: [], missing: [] };
      // Part by part, each reported once its records are all there: a chunk that is gone is skipped and named, and the
      // others are still recorded (the workflow unmarks what is reported, and nothing else).
      for (const part of input.parts) {
        let lines: BufferLine[];
        try {
          lines = (await readChunk(store, part.key)).slice(part.from).filter((l) => !l.recorded);
        } catch (err) {
          if (!(err instanceof BlobNotFoundError)) throw err;
          result.missing.push(part.key);
          continue;
        }
        const made = await inBatches(lines, PARALLEL_CLAIMS, (l) => store.createJsonExclusive(intakeKeys.requestRecord(input.intake, l.customId), recordOf(l)));
        result.written += made.filter(Boolean).length;
        result.recorded.push(part.key);
      }
      return result;
    },

    async cutIntakeChunks(input: CutChunksInput): Promise<{ inputKey: string; requestCount: number; notifyKey?: string }> {
      const lines: BufferLine[] = [];
      for (const part of input.parts) lines.push(...(await readChunk(store, part.key)).slice(part.from, part.to));
      const bodies = new Map<string, NormalizedRequest>();
      const wanted = new Set(lines.map((l) => l.customId));
      for (const segment of new Set(lines.map((l) => l.segment))) {
        for await (const text of store.readLines(segment)) {
          const request = JSON.parse(text) as NormalizedRequest;
          if (wanted.has(request.custom_id) && !bodies.has(request.custom_id)) bodies.set(request.custom_id, request);
        }
      }
      const missing = lines.filter((l) => !bodies.has(l.customId)).map((l) => l.customId);
      if (missing.length) throw new Error(`Intake ${input.intake}: no stored body for ${missing.slice(0, 5).join(', ')}`);
      const inputKey = jobKeys.input(input.jobId);
      await store.writeLines(inputKey, lines.map((l, n) => JSON.stringify({ ...bodies.get(l.customId)!, line: n + 1 })));
      const notify = lines.filter((l) => l.notifyWorkflowId).map((l) => [l.customId, l.notifyWorkflowId!]);
      let notifyKey: string | undefined;
      if (notify.length) {
        notifyKey = intakeKeys.notify(input.intake, input.jobId);
        await store.writeJson(notifyKey, notify);
      }
      // Each record now names its job: a duplicate is answered "in job X", then "done in job X".
      // The buffer line holds all the record held (no read first: a cut of 100 made 100 fewer reads).
      await inBatches(lines, PARALLEL_CLAIMS, (l) => store.writeJson(intakeKeys.requestRecord(input.intake, l.customId), { ...recordOf(l), jobId: input.jobId }));
      return { inputKey, requestCount: lines.length, notifyKey };
    },

    async compactIntakeChunks(input: CompactInput): Promise<ChunkRef> {
      // Run twice, the sources are still there (they are never deleted here) and the merge is the same.
      const lines: BufferLine[] = [];
      for (const part of input.parts) {
        const taken = (await readChunk(store, part.key)).slice(part.from);
        // Lines of a chunk whose records are written say so: recording the merge then writes only the others (it
        // recorded the whole merge, up to maxBuffered lines, each time a marked chunk joined it).
        lines.push(...(part.unrecorded ? taken : taken.map((l): BufferLine => (l.recorded ? l : { ...l, recorded: true }))));
      }
      lines.sort((a, b) => a.cutByMs - b.cutByMs);
      await store.writeLines(input.key, lines.map((l) => JSON.stringify(l)));
      return summarize(input.key, input.tier, lines);
    },
  };
}

/**
 * Admits the groups' items in order, claiming records first (one exclusive create per new custom_id, no read before
 * it: a read is only needed when the record exists). Room is given out in that order and a claim is never made past
 * it, so the same input gets the same answers when the call runs again: its own records are recognised by segment.
 */
async function admitGroups(store: BlobStore, input: AdmitGroupsInput): Promise<AdmitResult> {
  const planned = input.groups.flatMap((g) => g.items.map((item) => planLine(input, g.segment, item)));
  const notAccepted: AdmitResult['notAccepted'] = [];
  const admittedAt = new Set<number>();
  let next = 0;
  while (next < planned.length && admittedAt.size < input.room) {
    // At most as many claims as there is room left: a claim is an acceptance unless the record was another's.
    const at = Array.from({ length: Math.min(PARALLEL_CLAIMS, input.room - admittedAt.size, planned.length - next) }, (_, k) => next + k);
    next += at.length;
    const seen = await Promise.all(at.map((i) => claim(store, input.intake, planned[i]!)));
    for (const [k, c] of seen.entries()) {
      if (c.kind === 'duplicate') notAccepted.push({ at: at[k]!, custom_id: planned[at[k]!]!.customId, status: 'duplicate', reason: c.reason });
      else admittedAt.add(at[k]!);
    }
  }
  // Past the room: what the records say, without claiming (an existing one is a duplicate, else the queue is full).
  const rest = planned.slice(next);
  const seen = await inBatches(rest, PARALLEL_CLAIMS, (line) => look(store, input.intake, line));
  for (const [k, c] of seen.entries()) {
    const at = next + k;
    if (c.kind === 'duplicate') notAccepted.push({ at, custom_id: rest[k]!.customId, status: 'duplicate', reason: c.reason });
    else notAccepted.push({ at, custom_id: rest[k]!.customId, status: 'refused', reason: 'queue full' });
  }
  const accepted = planned.filter((_, at) => admittedAt.has(at));
  const chunks = await writeChunks(store, input.chunkKey, accepted);
  return { notAccepted: notAccepted.sort((a, b) => a.at - b.at), accepted: accepted.length, chunks };
}

/**
 * Admits the groups' items in order without claiming records (deferred records): one chunk blob per tier is the only
 * write. A custom_id is a duplicate when its record exists (cut, or written by recordIntakeChunks) or when it is in
 * one of the buffer's unrecorded chunks; the workflow never admits one custom_id in two calls at once, and a chunk
 * joins the unrecorded list before the next admission starts, so none is missed. Nothing is claimed, so a second run
 * of the same input reads the same and answers the same (its own chunk is not among those it looks in).
 */
async function admitDeferred(store: BlobStore, index: ReturnType<typeof chunkIndex>, input: AdmitDeferredInput): Promise<AdmitResult> {
  const planned = input.groups.flatMap((g) => g.items.map((item) => planLine(input, g.segment, item)));
  const buffered = await index.lookUp(input.unrecorded);
  // A read that fails fails the attempt (it is retried): taken as "no record", it would accept a duplicate.
  const records = await inBatches(planned, PARALLEL_CLAIMS, (l) => store.readJson<RequestRecord>(intakeKeys.requestRecord(input.intake, l.customId)));
  const notAccepted: AdmitResult['notAccepted'] = [];
  const accepted: BufferLine[] = [];
  const firsts: { at: number; record: RequestRecord }[] = [];
  for (const [at, line] of planned.entries()) {
    const first = records[at] ?? recordFrom(buffered(line.customId));
    if (first) firsts.push({ at, record: first });
    else if (accepted.length < input.room) accepted.push(line);
    else notAccepted.push({ at, custom_id: line.customId, status: 'refused', reason: 'queue full' });
  }
  const reasons = await describeFirsts(store, firsts.map((f) => f.record));
  for (const [k, f] of firsts.entries()) notAccepted.push({ at: f.at, custom_id: f.record.custom_id, status: 'duplicate', reason: reasons[k]! });
  notAccepted.sort((a, b) => a.at - b.at);
  const chunks = await writeChunks(store, input.chunkKey, accepted, (key, lines) => index.remember(key, lines));
  return { notAccepted, accepted: accepted.length, chunks: chunks.map((c) => ({ ...c, unrecorded: true })) };
}

function recordFrom(line: BufferLine | undefined): RequestRecord | undefined {
  return line && recordOf(line);
}

/** One chunk per tier, its lines sorted by cut time; `written` is told each chunk once it is in the store. */
async function writeChunks(
  store: BlobStore,
  chunkKey: string,
  accepted: BufferLine[],
  written?: (key: string, lines: readonly BufferLine[]) => void,
): Promise<ChunkRef[]> {
  const chunks: ChunkRef[] = [];
  for (const tier of ['urgent', 'standard', 'bulk'] as const) {
    const lines = accepted.filter((l) => l.tier === tier).sort((a, b) => a.cutByMs - b.cutByMs);
    if (lines.length === 0) continue;
    const key = chunkKey.replace(/\.jsonl$/, `-${tier}.jsonl`);
    await store.writeLines(key, lines.map((l) => JSON.stringify(l)));
    written?.(key, lines);
    chunks.push(summarize(key, tier, lines));
  }
  return chunks;
}

/** Claims the custom_id's record for this line; one that exists is ours (this call's earlier attempt) or another's. */
async function claim(store: BlobStore, intake: string, line: BufferLine): Promise<Seen> {
  const key = intakeKeys.requestRecord(intake, line.customId);
  // A create is whole or absent (never a half-written record), so a record that exists can be read: a read that fails
  // fails the attempt, which is retried, rather than count the record as ours and overwrite another's.
  for (let tries = 0; tries < 2; tries++) {
    if (await store.createJsonExclusive(key, recordOf(line))) return { kind: 'free' };
    const existing = await store.readJson<RequestRecord>(key);
    // Gone between the create and the read (swept past retention): claim it again.
    if (!existing) continue;
    if (existing.segment === line.segment) return { kind: 'ours' };
    return { kind: 'duplicate', reason: await describeFirst(store, existing) };
  }
  // The store says the record both exists and does not: fail the attempt (retried) rather than guess.
  throw new Error(`Intake ${intake}: the record of ${line.customId} exists but cannot be read`);
}

type Seen = { kind: 'free' } | { kind: 'ours' } | { kind: 'duplicate'; reason: string };

/** What the custom_id's record says (a read that fails fails the attempt, as in claim). */
async function look(store: BlobStore, intake: string, line: BufferLine): Promise<Seen> {
  const existing = await store.readJson<RequestRecord>(intakeKeys.requestRecord(intake, line.customId));
  if (existing === undefined) return { kind: 'free' };
  if (existing.segment === line.segment) return { kind: 'ours' };
  return { kind: 'duplicate', reason: await describeFirst(store, existing) };
}

/** "already accepted: buffered (bulk) since 12:03:04 UTC" / "... in job X" / "... done in job X: succeeded". */
export async function describeFirst(store: BlobStore, r: RequestRecord): Promise<string> {
  return (await describeFirsts(store, [r]))[0]!;
}

/**
 * describeFirst for many records at once: each job's summary and results are read once for all its ids (one by one,
 * every duplicate of a done job scanned the job's whole results.jsonl), and the jobs are read together.
 */
async function describeFirsts(store: BlobStore, records: readonly RequestRecord[]): Promise<string[]> {
  const byJob = new Map<string, Set<string>>();
  for (const r of records) if (r.jobId) byJob.set(r.jobId, (byJob.get(r.jobId) ?? new Set()).add(r.custom_id));
  const jobs = new Map(
    await Promise.all(
      [...byJob].map(async ([jobId, ids]) => {
        const summary = await store.readJson<JobSummary>(jobKeys.output(jobId, 'summary.json'));
        return [jobId, summary ? await outcomesIn(store, jobId, ids) : undefined] as const;
      }),
    ),
  );
  return records.map((r) => {
    const since = new Date(r.acceptedAtMs).toISOString().replace('T', ' ').slice(0, 19);
    if (!r.jobId) return `already accepted ${since} UTC: buffered (${r.tier})`;
    const outcomes = jobs.get(r.jobId);
    if (!outcomes) return `already accepted ${since} UTC: in job ${r.jobId}`;
    return `already accepted ${since} UTC: done in job ${r.jobId}: ${outcomes.get(r.custom_id)?.status ?? 'no outcome'}`;
  });
}

function recordOf(line: BufferLine): RequestRecord {
  return { custom_id: line.customId, segment: line.segment, tier: line.tier, acceptedAtMs: line.enqueuedAtMs };
}

/** Deadline and cut time of one request, planned as the workflow's rule says (urgent: due at once). */
function planLine(input: AdmitGroupsInput, segment: string, item: AdmitInput['items'][number]): BufferLine {
  const tier = item.tier ?? input.plan.defaultTier;
  const now = input.nowMs;
  const planned =
    tier === 'urgent'
      ? { customId: item.custom_id, tier, enqueuedAtMs: now, deadlineMs: now, cutByMs: now }
      : planBuffered(item.custom_id, tier, now, input.plan, item.deadlineMs);
  return { ...planned, segment, ...(item.notifyWorkflowId ? { notifyWorkflowId: item.notifyWorkflowId } : {}) };
}

async function readChunk(store: BlobStore, key: string): Promise<BufferLine[]> {
  const lines: BufferLine[] = [];
  for await (const text of store.readLines(key)) lines.push(JSON.parse(text) as BufferLine);
  return lines;
}

function summarize(key: string, tier: ChunkRef['tier'], lines: BufferLine[]): ChunkRef {
  return {
    key,
    tier,
    count: lines.length,
    taken: 0,
    cutByMs: lines.reduce((m, l) => Math.min(m, l.cutByMs), Infinity),
    deadlineMs: lines.reduce((m, l) => Math.min(m, l.deadlineMs), Infinity),
    enqueuedAtMs: lines.reduce((m, l) => Math.min(m, l.enqueuedAtMs), Infinity),
  };
}

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}
