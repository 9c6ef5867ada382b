/**
 * Cutting a job into sub-batches by prompt-cache group: requests that share a cached prefix go into the same
 * sub-batches, in input order within the group (docs/prompt-cache.md). A streaming cutter: the caller keeps one open
 * sub-batch per group and flushes it when told, so memory is bounded by `maxBufferedBytes`, not by the job. Pure.
 */
import { formatInteger } from './format';

export interface GroupCutterOptions {
  /** Requests per sub-batch. */
  maxRequests: number;
  /** Bytes of the items of one sub-batch. */
  maxBytes: number;
  /** All open sub-batches together; past it the largest is closed early (a smaller sub-batch, never a lost one). */
  maxBufferedBytes: number;
}

/** What the caller does around one add: close these groups' open sub-batches first; close this one's after. */
export interface GroupStep {
  flushBefore: string[];
  flushAfter: boolean;
}

export interface GroupCutter {
  add(group: string, bytes: number): GroupStep;
  /** The groups still open, in the order they opened: flush each, in this order, at the end. */
  finish(): string[];
}

interface Open {
  count: number;
  bytes: number;
}

export function createGroupCutter(opts: GroupCutterOptions): GroupCutter {
  const open = new Map<string, Open>();
  let buffered = 0;
  const close = (group: string) => {
    buffered -= open.get(group)?.bytes ?? 0;
    open.delete(group);
  };
  return {
    add(group, bytes) {
      if (bytes > opts.maxBytes) {
        throw new RangeError(`a request of ${formatInteger(bytes)} bytes fits no sub-batch (limit ${formatInteger(opts.maxBytes)} bytes)`);
      }
      const flushBefore: string[] = [];
      const mine = open.get(group);
      if (mine && mine.bytes + bytes > opts.maxBytes) {
        flushBefore.push(group);
        close(group);
      }
      while (open.size > 0 && buffered + bytes > opts.maxBufferedBytes) {
        let largest: string | undefined;
        for (const [g, o] of open) if (largest === undefined || o.bytes > open.get(largest)!.bytes) largest = g;
        flushBefore.push(largest!);
        close(largest!);
      }
      const entry = open.get(group) ?? { count: 0, bytes: 0 };
      entry.count++;
      entry.bytes += bytes;
      buffered += bytes;
      open.set(group, entry);
      const flushAfter = entry.count >= opts.maxRequests;
      if (flushAfter) close(group);
      return { flushBefore, flushAfter };
    },
    finish() {
      const rest = [...open.keys()];
      open.clear();
      buffered = 0;
      return rest;
    },
  };
}

/** The sub-batches of a job (request indices, each in input order), from each request's group and size. */
export function planGroupedShards(items: readonly { group: string; bytes: number }[], opts: GroupCutterOptions): number[][] {
  const cutter = createGroupCutter(opts);
  const buffers = new Map<string, number[]>();
  const shards: number[][] = [];
  const flush = (group: string) => {
    const b = buffers.get(group);
    if (b && b.length > 0) shards.push(b);
    buffers.delete(group);
  };
  items.forEach((item, i) => {
    const step = cutter.add(item.group, item.bytes);
    step.flushBefore.forEach(flush);
    const b = buffers.get(item.group) ?? [];
    b.push(i);
    buffers.set(item.group, b);
    if (step.flushAfter) flush(item.group);
  });
  cutter.finish().forEach(flush);
  return shards;
}
