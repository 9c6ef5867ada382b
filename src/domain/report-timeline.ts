/**
 * The report's timeline at any number of sub-batches: up to TIMELINE_MAX_BARS it draws one bar per sub-batch;
 * beyond, consecutive sub-batches of one kind share a bar (from the first one's start to the last one's end), so the
 * page and the memory that draws it stay the same size at 10,000 sub-batches as at 500. Pure.
 */
import type { BatchTiming } from './job';
import type { TimelineKind, TimelineRow } from './report-data';

/** Bars the timeline draws at most; past it, sub-batches are grouped. */
export const TIMELINE_MAX_BARS = 500;

/** A bar's colour: its kind, or grey when Sluice canceled it. */
export type TimelineColour = TimelineKind | 'canceled';

export function rowColour(r: Pick<TimelineRow, 'kind' | 'canceled'>): TimelineColour {
  return r.canceled ? 'canceled' : r.kind;
}

const COLOURS: readonly TimelineColour[] = ['batch', 'retry', 'sync', 'canceled'];

/** Consecutive sub-batches of one colour drawn as one bar. */
export interface TimelineGroup {
  colour: TimelineColour;
  /** Sub-batches in the bar. */
  members: number;
  firstShardKey: string;
  lastShardKey: string;
  firstBatchId?: string;
  lastBatchId?: string;
  requests: number;
  /** The earliest start and the latest end of its sub-batches. */
  startMs: number;
  endMs: number;
  /** Members that ended (the others are drawn to the job's end). */
  ended: number;
  reconciled: number;
  /** The API's created_at → ended_at of its members that have one: least and most. */
  apiMinMs?: number;
  apiMaxMs?: number;
  counts?: BatchTiming['counts'];
}

export interface TimelineGrouping {
  /** Sub-batches on the timeline. */
  subBatches: number;
  /** Sub-batches a bar holds at most. */
  perBar: number;
  groups: TimelineGroup[];
}

/**
 * Groups the rows when there are more than maxBars of them: each colour's rows, in the order given, fill bars of
 * perBar; a bar takes the place of its first row. At most maxBars bars (one partly filled bar per colour at most).
 * Undefined when every row has a bar of its own.
 */
export function groupTimeline(
  rows: readonly TimelineRow[],
  maxBars: number = TIMELINE_MAX_BARS,
): TimelineGrouping | undefined {
  if (rows.length <= maxBars) return undefined;
  const perBar = Math.ceil(rows.length / Math.max(1, maxBars - COLOURS.length));
  const groups: TimelineGroup[] = [];
  const open = new Map<TimelineColour, TimelineGroup>();
  for (const r of rows) {
    const colour = rowColour(r);
    let g = open.get(colour);
    if (!g || g.members >= perBar) {
      g = {
        colour,
        members: 0,
        firstShardKey: r.shardKey,
        lastShardKey: r.shardKey,
        firstBatchId: r.batchId,
        requests: 0,
        startMs: r.startMs,
        endMs: r.endMs,
        ended: 0,
        reconciled: 0,
      };
      groups.push(g);
      open.set(colour, g);
    }
    g.members++;
    g.lastShardKey = r.shardKey;
    g.lastBatchId = r.batchId;
    g.requests += r.requests;
    g.startMs = Math.min(g.startMs, r.startMs);
    g.endMs = Math.max(g.endMs, r.endMs);
    if (r.ended) g.ended++;
    if (r.reconciled) g.reconciled++;
    if (r.apiDurationMs !== undefined) {
      g.apiMinMs = Math.min(g.apiMinMs ?? Infinity, r.apiDurationMs);
      g.apiMaxMs = Math.max(g.apiMaxMs ?? -Infinity, r.apiDurationMs);
    }
    if (r.counts) {
      const c = (g.counts ??= { succeeded: 0, errored: 0, expired: 0, canceled: 0 });
      c.succeeded += r.counts.succeeded;
      c.errored += r.counts.errored;
      c.expired += r.counts.expired;
      c.canceled += r.counts.canceled;
    }
  }
  return { subBatches: rows.length, perBar, groups };
}
