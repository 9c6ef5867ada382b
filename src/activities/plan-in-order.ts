/**
 * The plan's cut in input order: shards of at most batchSize requests (and 256 MB), the first one of its own size
 * for a canary, written a few at a time while the input is still being read. Shards can be abandoned (deleted) when
 * the read finds a reason not to keep them: a refused model, or a cache mark that makes the plan cut by group.
 */
import { heartbeat } from '@temporalio/activity';
import { REQUEST_ENVELOPE_BYTES } from '../domain/limits';
import { createBatchCutter } from '../domain/split';
import { jobKeys, originalShardKey, type NormalizedRequest, type ShardLine } from '../domain/job';
import type { BlobStore } from '../store/blob-store';

const SHARD_WRITES_AT_ONCE = 8;

export interface InOrderCut {
  requestCount: number;
  shardSizes: number[];
  /** Present when requests were priced (a job with a budget). */
  shardWorstUsd?: number[];
}

export class InOrderShards {
  private cutter;
  private firstCut: boolean;
  private readonly shardSizes: number[] = [];
  private readonly shardWorstUsd: number[] = [];
  private open: string[] = [];
  private openWorstUsd = 0;
  private requestCount = 0;
  private readonly writing = new Set<Promise<void>>();
  private writeFailure: Error | undefined;

  constructor(
    private readonly store: BlobStore,
    private readonly input: { jobId: string; batchSize: number; firstShardSize?: number },
    private readonly priced: boolean,
  ) {
    // A canary is the first shard, of its own size; every shard after it has the job's batch size.
    this.cutter = createBatchCutter({ maxRequests: input.firstShardSize ?? input.batchSize });
    this.firstCut = input.firstShardSize === undefined;
  }

  /**
   * One request of the input, in order: `text` is its line as stored, `worstUsd` its price when priced. Returns a
   * promise to wait for only when a shard was cut and SHARD_WRITES_AT_ONCE writes are in flight (or one failed), so
   * the read does not await once per line.
   */
  add(text: string, request: NormalizedRequest, worstUsd?: number): Promise<void> | undefined {
    const bytes = paramsBytes(text, request) + REQUEST_ENVELOPE_BYTES;
    let flushed: Promise<void> | undefined;
    if (this.cutter.add(bytes).cutBefore) {
      if (this.priced && this.open.length > 0) this.shardWorstUsd.push(this.openWorstUsd);
      this.openWorstUsd = 0;
      flushed = this.flush();
      if (!this.firstCut) {
        this.firstCut = true;
        this.cutter = createBatchCutter({ maxRequests: this.input.batchSize });
        this.cutter.add(bytes);
      }
    }
    if (worstUsd !== undefined) this.openWorstUsd += worstUsd;
    this.open.push(shardLineText(text, request, this.shardSizes.length, worstUsd));
    this.requestCount++;
    return flushed;
  }

  /** Writes the last shard and waits for every write. */
  async finish(): Promise<InOrderCut> {
    if (this.priced && this.open.length > 0) this.shardWorstUsd.push(this.openWorstUsd);
    await this.flush();
    await Promise.all(this.writing);
    if (this.writeFailure !== undefined) throw this.writeFailure;
    return { requestCount: this.requestCount, shardSizes: this.shardSizes, ...(this.priced ? { shardWorstUsd: this.shardWorstUsd } : {}) };
  }

  /** Deletes the shards written so far (once their writes have settled): the plan will not use them. */
  async abandon(): Promise<void> {
    this.open = [];
    await Promise.allSettled(this.writing);
    for (let i = 0; i < this.shardSizes.length; i++) await this.store.delete(jobKeys.shard(this.input.jobId, originalShardKey(i)));
    this.shardSizes.length = 0;
  }

  /** Starts the open shard's write; a promise only when the read must wait (writes at their limit, or one failed). */
  private flush(): Promise<void> | undefined {
    if (this.open.length === 0) return undefined;
    const write: Promise<void> = this.store.writeLines(jobKeys.shard(this.input.jobId, originalShardKey(this.shardSizes.length)), this.open).then(
      () => void this.writing.delete(write),
      (err: unknown) => {
        this.writeFailure ??= err instanceof Error ? err : new Error(String(err));
        this.writing.delete(write);
      },
    );
    this.shardSizes.push(this.open.length);
    this.open = [];
    this.writing.add(write);
    heartbeat({ shards: this.shardSizes.length });
    if (this.writing.size >= SHARD_WRITES_AT_ONCE || this.writeFailure !== undefined) return this.settleOne();
    return undefined;
  }

  private async settleOne(): Promise<void> {
    if (this.writing.size >= SHARD_WRITES_AT_ONCE) await Promise.race(this.writing);
    if (this.writeFailure !== undefined) throw this.writeFailure;
  }
}

/**
 * A shard's line: the request with its first attempt's fields after it. The stored line is an object's JSON text, so
 * the fields are appended to it rather than the request being built and serialised again (the same text as
 * JSON.stringify({ ...request, origin, attempt, batch_ids, worst_usd }) for a line the client wrote).
 */
export function shardLineText(text: string, request: NormalizedRequest, origin: number, worstUsd?: number): string {
  const worst = worstUsd === undefined ? '' : `,"worst_usd":${JSON.stringify(worstUsd)}`;
  if (text.startsWith('{"') && text.endsWith('}') && !APPENDED.some((k) => Object.hasOwn(request, k))) {
    return `${text.slice(0, -1)},"origin":${origin},"attempt":1,"batch_ids":[]${worst}}`;
  }
  const line: ShardLine = { ...request, origin, attempt: 1, batch_ids: [] };
  if (worstUsd !== undefined) line.worst_usd = worstUsd;
  return JSON.stringify(line);
}

const APPENDED = ['origin', 'attempt', 'batch_ids', 'worst_usd'];

/**
 * The UTF-8 size of JSON.stringify(request.params), from the stored line when it is the client's own text
 * (`{"custom_id":…,"line":…,"params":…}`, written with JSON.stringify: the params' text is then the line's middle),
 * so the params are not serialised again only to be measured; any other line is measured the long way.
 */
export function paramsBytes(text: string, request: NormalizedRequest): number {
  const head = `{"custom_id":${JSON.stringify(request.custom_id)},"line":${request.line},"params":`;
  if (text.startsWith(head) && text.endsWith('}') && !OTHER_KEYS.some((k) => Object.hasOwn(request, k))) {
    return Buffer.byteLength(text) - Buffer.byteLength(head) - 1;
  }
  return Buffer.byteLength(JSON.stringify(request.params));
}

/** Keys a stored request may have after its params (a pack's rows): the params are then not the line's middle. */
const OTHER_KEYS = ['pack', ...APPENDED];
