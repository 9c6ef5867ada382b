/**
 * The plan's cache-aware cut (docs/prompt-cache.md): requests that share a cached prefix go into the same shards, in
 * input order within each group; requests without one are cut in input order as usual. Outcomes are filed under
 * input-order segments (jobKeys.orderSegment) so results.jsonl keeps input order. Two passes over the input, with
 * only 22-character prefix keys, a fixed-size sketch and the open shards (bounded) in memory.
 */
import { heartbeat } from '@temporalio/activity';
import { createGroupCutter } from '../domain/cache-groups';
import { canMark, lastBreakpoint, leadingBlocks, markBlock, minSharing, type CacheTtl } from '../domain/cache-prefix';
import { jobKeys, originalShardKey, type NormalizedRequest, type ShardLine } from '../domain/job';
import { DEFAULT_MAX_BATCH_BYTES, REQUEST_ENVELOPE_BYTES } from '../domain/limits';
import type { BlobStore } from '../store/blob-store';
import { groupKeyOf, prefixChain, PrefixSketch } from './prefix-hash';

/** Open shards of all groups together, before the largest is closed early. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** --cache-prefix looks for shared prefixes among a request's first blocks only. */
const MAX_MARKED_DEPTH = 64;

/** What the first pass learns for the cut: whether any request marks a prefix, and how often prefixes recur. */
export class CacheSurvey {
  anyBreakpoint = false;
  readonly sketch: PrefixSketch | undefined;

  constructor(readonly ttl: CacheTtl | undefined) {
    this.sketch = ttl === undefined ? undefined : new PrefixSketch();
  }

  /** Called once per request in the first pass. */
  see(request: NormalizedRequest): void {
    const blocks = leadingBlocks(request.params);
    if (lastBreakpoint(blocks) >= 0) this.anyBreakpoint = true;
    // The last block is the request's own question: a prefix never includes it.
    if (this.sketch) for (const d of prefixChain(request.params.model, blocks, Math.min(blocks.length - 1, MAX_MARKED_DEPTH))) this.sketch.add(d);
  }

  /**
   * As see, from the request's stored line as well: without --cache-prefix only whether some block is marked matters,
   * and a line whose text names no `cache_control` (nor any \u escape that could spell it) marks none, so its
   * blocks are not walked. Once a mark was seen, the answer is known.
   */
  seeLine(text: string, request: NormalizedRequest): void {
    if (this.sketch === undefined && (this.anyBreakpoint || (!text.includes('cache_control') && !text.includes('\\u')))) return;
    this.see(request);
  }

  get groups(): boolean {
    return this.anyBreakpoint || this.ttl !== undefined;
  }
}

/** A request's params with --cache-prefix's mark, if a long enough shared prefix exists and a breakpoint is free. */
function marked(request: NormalizedRequest, survey: CacheSurvey): NormalizedRequest['params'] | undefined {
  if (!survey.sketch || !survey.ttl) return undefined;
  const blocks = leadingBlocks(request.params);
  const chain = prefixChain(request.params.model, blocks, Math.min(blocks.length - 1, MAX_MARKED_DEPTH));
  const needed = minSharing(survey.ttl);
  for (let k = chain.length; k >= 1; k--) {
    if (survey.sketch.count(chain[k - 1]!) < needed) continue;
    if (blocks[k - 1]!.ttl !== undefined || !canMark(request.params, k - 1, survey.ttl)) return undefined;
    return markBlock(request.params, k - 1, survey.ttl);
  }
  return undefined;
}

/** The group of a request: the key of its prefix up to its last breakpoint; '' for a request without one. */
function groupOf(params: NormalizedRequest['params']): string {
  const blocks = leadingBlocks(params);
  const last = lastBreakpoint(blocks);
  return last < 0 ? '' : groupKeyOf(prefixChain(params.model, blocks, last + 1)[last]!);
}

export interface GroupedPlan {
  requestCount: number;
  shardSizes: number[];
  orderSegments: number;
  cacheGroups: number;
  cacheMarked: number;
}

export async function writeGroupedShards(
  store: BlobStore,
  input: { jobId: string; inputKey: string; batchSize: number },
  survey: CacheSurvey,
): Promise<GroupedPlan> {
  const cutter = createGroupCutter({
    maxRequests: input.batchSize,
    maxBytes: DEFAULT_MAX_BATCH_BYTES,
    maxBufferedBytes: MAX_BUFFERED_BYTES,
  });
  const open = new Map<string, string[]>();
  const shardSizes: number[] = [];
  const groups = new Set<string>();
  let order: string[] = [];
  let orderSegments = 0;
  let requestCount = 0;
  let cacheMarked = 0;

  const flush = async (group: string) => {
    const lines = open.get(group);
    open.delete(group);
    if (!lines || lines.length === 0) return;
    await store.writeLines(jobKeys.shard(input.jobId, originalShardKey(shardSizes.length)), lines);
    shardSizes.push(lines.length);
    heartbeat({ shards: shardSizes.length });
  };
  const flushOrder = async () => {
    if (order.length === 0) return;
    await store.writeLines(jobKeys.orderSegment(input.jobId, orderSegments), order);
    orderSegments++;
    order = [];
  };

  for await (const text of store.readLines(input.inputKey)) {
    const request = JSON.parse(text) as NormalizedRequest;
    const params = marked(request, survey);
    if (params) cacheMarked++;
    const sent: NormalizedRequest = params ? { ...request, params } : request;
    const group = groupOf(sent.params);
    if (group !== '') groups.add(group);
    const segment = Math.floor(requestCount / input.batchSize);
    const line: ShardLine = { ...sent, origin: segment, attempt: 1, batch_ids: [] };
    const step = cutter.add(group, Buffer.byteLength(JSON.stringify(sent.params)) + REQUEST_ENVELOPE_BYTES);
    for (const g of step.flushBefore) await flush(g);
    const lines = open.get(group) ?? [];
    lines.push(JSON.stringify(line));
    open.set(group, lines);
    if (step.flushAfter) await flush(group);
    // A packed request's rows are settled under their own custom_ids: the segment names them.
    const rows = request.pack?.map((r) => ({ custom_id: r.custom_id, line: r.line }));
    order.push(JSON.stringify({ custom_id: request.custom_id, line: request.line, model: request.params.model, ...(rows && { pack: rows }) }));
    requestCount++;
    if (order.length >= input.batchSize) await flushOrder();
  }
  for (const g of cutter.finish()) await flush(g);
  await flushOrder();
  return { requestCount, shardSizes, orderSegments, cacheGroups: groups.size, cacheMarked };
}
