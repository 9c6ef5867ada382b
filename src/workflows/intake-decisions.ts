/**
 * Decisions of the store-backed intake, pure over what its workflow keeps (chunk summaries, jobs in flight):
 * which chunk lines to cut into the next sub-batches, when chunks are compacted, how long to wait, why a cut
 * waits, and when the retention sweep runs. Unit-tested without a server (test/intake-decisions.test.ts).
 */
import type { ChunkRef, RecordChunksResult, SweepIntakeResult } from '../contracts/activities';
import type { TierWait } from '../contracts/messages';
import { TIERS, type IntakeOptions, type Tier } from '../domain/intake';

export interface PlannedCut {
  tier: Tier;
  parts: { key: string; from: number; to: number }[];
  count: number;
  /** The earliest deadline among the chunks it takes from (conservative: a chunk's summary is its earliest). */
  deadlineMs: number;
}

const left = (c: ChunkRef) => c.count - c.taken;

/**
 * The cuts due now, most pressing first: urgent requests at once; per coalesced tier, full sub-batches, then the
 * rest (up to one sub-batch) when its earliest cut time has come or a flush asks. Chunks are taken in order of
 * their cut time, each from where the last cut stopped.
 */
export function planCuts(chunks: readonly ChunkRef[], nowMs: number, batchSize: number, flush = false): PlannedCut[] {
  const cuts: PlannedCut[] = [];
  for (const tier of TIERS) {
    const mine = chunks
      .filter((c) => c.tier === tier && left(c) > 0)
      .map((c) => ({ ...c }))
      .sort((a, b) => a.cutByMs - b.cutByMs || a.enqueuedAtMs - b.enqueuedAtMs || (a.key < b.key ? -1 : 1));
    let available = mine.reduce((n, c) => n + left(c), 0);
    let i = 0;
    while (available > 0) {
      const due = tier === 'urgent' || flush || available >= batchSize || (mine[i] !== undefined && mine[i]!.cutByMs <= nowMs);
      if (!due) break;
      const cut: PlannedCut = { tier, parts: [], count: 0, deadlineMs: Infinity };
      while (cut.count < batchSize && i < mine.length) {
        const c = mine[i]!;
        const take = Math.min(left(c), batchSize - cut.count);
        cut.parts.push({ key: c.key, from: c.taken, to: c.taken + take });
        cut.deadlineMs = Math.min(cut.deadlineMs, c.deadlineMs);
        cut.count += take;
        c.taken += take;
        if (left(c) === 0) i++;
      }
      available -= cut.count;
      cuts.push(cut);
    }
  }
  return cuts;
}

/** What a cut may hold and how long a tier may gather (patch intake-cut-many). */
export interface CutLimits {
  batchSize: number;
  /** Requests per cut at most (one child job); never below batchSize. */
  maxCutRequests: number;
  cutGatherMs: number;
}

/**
 * The cuts due now, each up to `maxCutRequests` into one child job (which splits it into sub-batches). Urgent
 * requests at once, one sub-batch per cut (each job calls them `syncConcurrency` at a time, so more jobs answer
 * sooner). A coalesced tier is due when it holds a full cut, when its most pressing chunk's cut time has come, on a
 * flush, or when it holds at least one sub-batch and its oldest request has gathered for `cutGatherMs`; then it
 * takes everything it holds, up to the cap, but a cut for the cap or the gather window alone takes whole
 * sub-batches only (the rest waits for the next cut). A cut's deadline is the earliest of the chunks it takes from.
 */
export function planCutsMany(chunks: readonly ChunkRef[], nowMs: number, l: CutLimits, flush = false): PlannedCut[] {
  const cuts: PlannedCut[] = [];
  for (const tier of TIERS) {
    const cap = tier === 'urgent' ? l.batchSize : Math.max(l.batchSize, l.maxCutRequests);
    const mine = ordered(chunks, tier);
    let available = mine.reduce((n, c) => n + left(c), 0);
    let i = 0;
    while (available > 0) {
      const rest = mine.slice(i);
      const pressed = tier === 'urgent' || flush || rest[0]!.cutByMs <= nowMs;
      const due = pressed || available >= cap || (available >= l.batchSize && gatheredAtMs(rest, l.cutGatherMs) <= nowMs);
      if (!due) break;
      // Cut for the cap or the gather window only: whole sub-batches, so none goes out part full; the rest waits.
      const size = pressed ? cap : Math.floor(Math.min(available, cap) / l.batchSize) * l.batchSize;
      const cut: PlannedCut = { tier, parts: [], count: 0, deadlineMs: Infinity };
      while (cut.count < size && i < mine.length) {
        const c = mine[i]!;
        const take = Math.min(left(c), size - cut.count);
        cut.parts.push({ key: c.key, from: c.taken, to: c.taken + take });
        cut.deadlineMs = Math.min(cut.deadlineMs, c.deadlineMs);
        cut.count += take;
        c.taken += take;
        if (left(c) === 0) i++;
      }
      available -= cut.count;
      cuts.push(cut);
    }
  }
  return cuts;
}

/** A tier's chunks with lines left, copied, in the order cuts take them: by cut time, then arrival. */
function ordered(chunks: readonly ChunkRef[], tier: Tier): ChunkRef[] {
  return chunks
    .filter((c) => c.tier === tier && left(c) > 0)
    .map((c) => ({ ...c }))
    .sort((a, b) => a.cutByMs - b.cutByMs || a.enqueuedAtMs - b.enqueuedAtMs || (a.key < b.key ? -1 : 1));
}

/** When chunks holding a sub-batch or more have gathered long enough: their oldest arrival plus the window. */
function gatheredAtMs(chunks: readonly ChunkRef[], gatherMs: number): number {
  return Math.min(...chunks.map((c) => c.enqueuedAtMs)) + gatherMs;
}

/**
 * When the next cut falls due at the latest per tier under planCutsMany: its earliest cut time, or sooner when it
 * holds a sub-batch and gathers (a full cut is cut at once). Undefined for a tier with nothing waiting.
 */
export function nextCutAtMs(chunks: readonly ChunkRef[], tier: Tier, l: CutLimits): number | undefined {
  const mine = chunks.filter((c) => c.tier === tier && left(c) > 0);
  if (mine.length === 0) return undefined;
  const cutBy = Math.min(...mine.map((c) => c.cutByMs));
  const waiting = mine.reduce((n, c) => n + left(c), 0);
  if (tier === 'urgent' || waiting >= Math.max(l.batchSize, l.maxCutRequests)) return Math.min(cutBy, Math.min(...mine.map((c) => c.enqueuedAtMs)));
  return waiting >= l.batchSize ? Math.min(cutBy, gatheredAtMs(mine, l.cutGatherMs)) : cutBy;
}

/**
 * How long the loop may sleep under planCutsMany: waitMs, but also until a tier has gathered. With every job slot
 * taken (`roomForJobs` false) no cut can be made, so it waits only for the silent check: a job's end signal wakes the
 * loop, and waking for cuts already due would turn it every millisecond until one ends.
 */
export function waitManyMs(chunks: readonly ChunkRef[], jobs: readonly { lastHeardMs: number }[], nowMs: number, silentMs: number, l: CutLimits, roomForJobs = true): number {
  if (!roomForJobs) return waitMs([], jobs, nowMs, silentMs);
  const gathered = TIERS.map((t) => nextCutAtMs(chunks, t, l)).filter((t): t is number => t !== undefined);
  return Math.max(1, Math.min(waitMs(chunks, jobs, nowMs, silentMs), ...gathered.map((t) => t - nowMs)));
}

/**
 * Marks a cut's lines taken and drops chunks that are used up. Cuts made at once may end in any order: a chunk's
 * taken count only grows.
 */
export function applyCut(chunks: readonly ChunkRef[], cut: PlannedCut): ChunkRef[] {
  const to = new Map(cut.parts.map((p) => [p.key, p.to]));
  return chunks
    .map((c) => (to.has(c.key) ? { ...c, taken: Math.max(c.taken, to.get(c.key)!) } : c))
    .filter((c) => left(c) > 0);
}

/**
 * Chunks to merge into one when a tier holds more than `maxChunksPerTier`: all of that tier's, so the workflow
 * keeps at most a handful of summaries per tier whatever the buffer's size.
 */
export function compactionDue(chunks: readonly ChunkRef[], maxChunksPerTier: number): { tier: Tier; keys: string[] } | undefined {
  for (const tier of TIERS) {
    const mine = chunks.filter((c) => c.tier === tier);
    if (mine.length > maxChunksPerTier) return { tier, keys: mine.map((c) => c.key) };
  }
  return undefined;
}

export function bufferedCount(chunks: readonly ChunkRef[]): number {
  return chunks.reduce((n, c) => n + left(c), 0);
}

/** Per tier with something waiting: how many, and when its next cut comes at the latest. */
export function tierWaits(chunks: readonly ChunkRef[], o: IntakeOptions, many?: CutLimits): TierWait[] {
  const waits: TierWait[] = [];
  for (const tier of TIERS) {
    const mine = chunks.filter((c) => c.tier === tier && left(c) > 0);
    if (mine.length === 0) continue;
    const cutByMs = Math.min(...mine.map((c) => c.cutByMs));
    // Cutting many at once, a tier holding a sub-batch is cut once it has gathered, before its cut time.
    const cutAtMs = many ? nextCutAtMs(chunks, tier, many)! : cutByMs;
    waits.push({ tier, waiting: mine.reduce((n, c) => n + left(c), 0), cutAtMs, latestSafeMs: cutByMs + o.cutLeadMs });
  }
  return waits;
}

/** Jobs not heard from for `silentMs` are described (the fallback for a signal that never came). */
export function silentJobs<J extends { jobId: string; lastHeardMs: number }>(jobs: readonly J[], nowMs: number, silentMs: number): J[] {
  return jobs.filter((j) => nowMs - j.lastHeardMs >= silentMs);
}

/** How long the loop may sleep: until the next cut time, the next fallback check, or a day. */
export function waitMs(chunks: readonly ChunkRef[], jobs: readonly { lastHeardMs: number }[], nowMs: number, silentMs: number): number {
  const nextCut = Math.min(...chunks.filter((c) => left(c) > 0).map((c) => c.cutByMs));
  const nextCheck = Math.min(...jobs.map((j) => j.lastHeardMs + silentMs));
  return Math.max(1, Math.min(nextCut - nowMs, nextCheck - nowMs, 24 * 3_600_000));
}

/**
 * Marked (unrecorded) chunks are recorded once the oldest has waited RECORD_AFTER_MS, or at once when RECORD_AT_CHUNKS
 * wait: one call per second or so rather than one per enqueue, whose ending would be a workflow task the next enqueue
 * waits behind. Most urgent and standard chunks are cut (which writes their records) before then.
 */
const RECORD_AFTER_MS = 1_000;
const RECORD_AT_CHUNKS = 16;

/** In how many ms the marked chunks are due for recording (0: now), or undefined when none is marked. */
export function recordingDueInMs(chunks: readonly ChunkRef[], nowMs: number): number | undefined {
  const marked = chunks.filter((c) => c.unrecorded);
  if (marked.length === 0) return undefined;
  if (marked.length >= RECORD_AT_CHUNKS) return 0;
  return Math.max(0, Math.min(...marked.map((c) => c.enqueuedAtMs)) + RECORD_AFTER_MS - nowMs);
}

/**
 * The chunks after a recordIntakeChunks call of `asked` (keys): only what it reports loses its mark, the chunks it
 * recorded and those gone (which no admission could read either); `undefined` (failed for good) unmarks nothing, and
 * a later turn records again. A result without lists is a worker of the release before them, which recorded every
 * part or failed.
 */
export function afterRecording(chunks: readonly ChunkRef[], asked: readonly string[], r: Partial<Pick<RecordChunksResult, 'recorded' | 'missing'>> | undefined): ChunkRef[] {
  const done = new Set(!r ? [] : r.recorded ? [...r.recorded, ...(r.missing ?? [])] : asked);
  return chunks.map((c) => (done.has(c.key) && c.unrecorded ? withoutMark(c) : c));
}

function withoutMark(c: ChunkRef): ChunkRef {
  const { unrecorded: _, ...rest } = c;
  return rest;
}

/** Spent chunk keys listed for the sweep at once; fewer wait until the oldest has waited RETIRE_AFTER_MS. */
export const RETIRE_BATCH = 64;
const RETIRE_AFTER_MS = 60_000;
const DEFAULT_RETENTION_MS = 30 * 24 * 3_600_000;

/** Whether the chunks spent since `sinceMs` are listed for the sweep now. */
export function retireDue(spent: number, sinceMs: number | undefined, nowMs: number, o: Pick<IntakeOptions, 'retentionMs'>): boolean {
  if (spent === 0) return false;
  const after = Math.min(RETIRE_AFTER_MS, o.retentionMs ?? DEFAULT_RETENTION_MS);
  return spent >= RETIRE_BATCH || nowMs - (sinceMs ?? nowMs) >= after;
}

/**
 * Lists retired before this are swept: the intake's retention, but never less than twice its longest tier's SLA (a
 * merged chunk's sources are retired while their requests still wait, and their bodies must outlive that wait).
 */
export function sweepCutoffMs(o: Pick<IntakeOptions, 'retentionMs' | 'tiers'>, nowMs: number): number {
  const longestSla = Math.max(o.tiers.standard.slaMs, o.tiers.bulk.slaMs);
  return nowMs - Math.max(o.retentionMs ?? DEFAULT_RETENTION_MS, 2 * longestSla);
}

/**
 * After one bounded sweep call (`undefined`: it failed for good): whether another is due, and whether to wake the
 * loop for it now. A backlog goes on at the next turn; a failure waits for a turn that comes anyway (no hot loop).
 */
export function afterSweep(swept: Pick<SweepIntakeResult, 'more'> | undefined): { due: boolean; wake: boolean } {
  if (!swept) return { due: true, wake: false };
  return swept.more ? { due: true, wake: true } : { due: false, wake: false };
}
