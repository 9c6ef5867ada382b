/**
 * The batches, in creation order. Creating a batch plans every request's fate (plan.ts); everything else
 * is read lazily from the clock (batch-state.ts).
 */
import type { StoredBatch } from './batch-state';
import { naturalEndAtMs, statusAt } from './batch-state';
import type { EmulatorConfig } from './config';
import { newBatchId } from './ids';
import { applyPromptCache, planRequests } from './plan';
import { PromptCache } from './prompt-cache';
import { deriveSeed, mulberry32 } from './prng';
import type { NominalClock } from './time';
import type { BatchRequestInput } from './validation';

export interface ListQuery {
  limit: number;
  beforeId?: string | undefined;
  afterId?: string | undefined;
}

export interface ListPage {
  /** Newest first. */
  data: StoredBatch[];
  hasMore: boolean;
}

export type CancelResult = { ok: true; batch: StoredBatch } | { ok: false; reason: 'not_found' | 'already_ended' };
export type DeleteResult = { ok: true } | { ok: false; reason: 'not_found' | 'not_ended' };

export class BatchStore {
  private byId = new Map<string, StoredBatch>();
  /** Oldest first. */
  private order: StoredBatch[] = [];
  private seq = 0;
  /** The account's prompt cache, shared by batches and synchronous calls; not saved (a restart starts it cold). */
  readonly promptCache = new PromptCache();

  constructor(
    private readonly config: EmulatorConfig,
    private readonly clock: NominalClock,
  ) {}

  get size(): number {
    return this.order.length;
  }

  get lastSeq(): number {
    return this.seq;
  }

  create(inputs: BatchRequestInput[]): StoredBatch {
    const seq = ++this.seq;
    const seed = deriveSeed(this.config.seed, 'batch', seq);
    const requests = planRequests(inputs, {
      latency: this.config.latency,
      faults: this.config.faults,
      models: this.config.models,
      random: mulberry32(seed),
    });
    const createdAtMs = this.clock.nowMs();
    applyPromptCache(requests, inputs, createdAtMs, this.promptCache, this.config.models);
    const expiresAtMs = createdAtMs + this.config.windowMs;
    const batch: StoredBatch = {
      id: newBatchId(),
      seq,
      seed,
      createdAtMs,
      createdAtRealMs: Date.now(),
      expiresAtMs,
      archiveAtMs: createdAtMs + this.config.resultsRetentionMs,
      naturalEndAtMs: naturalEndAtMs(createdAtMs, expiresAtMs, requests),
      cancelAtMs: null,
      cancelEndAtMs: null,
      requests,
    };
    this.add(batch);
    return batch;
  }

  private add(batch: StoredBatch): void {
    this.byId.set(batch.id, batch);
    this.order.push(batch);
  }

  get(id: string): StoredBatch | undefined {
    return this.byId.get(id);
  }

  cancel(id: string): CancelResult {
    const batch = this.byId.get(id);
    if (!batch) return { ok: false, reason: 'not_found' };
    const nowMs = this.clock.nowMs();
    const status = statusAt(batch, nowMs);
    if (status === 'ended') return { ok: false, reason: 'already_ended' };
    if (status === 'in_progress') {
      batch.cancelAtMs = nowMs;
      batch.cancelEndAtMs = Math.min(nowMs + this.config.cancelDelayMs, batch.expiresAtMs);
    }
    return { ok: true, batch };
  }

  delete(id: string): DeleteResult {
    const batch = this.byId.get(id);
    if (!batch) return { ok: false, reason: 'not_found' };
    if (statusAt(batch, this.clock.nowMs()) !== 'ended') return { ok: false, reason: 'not_ended' };
    this.byId.delete(id);
    this.order.splice(this.order.indexOf(batch), 1);
    return { ok: true };
  }

  /**
   * Newest first. `afterId`: the page just after that batch (older); `beforeId`: the page just before it
   * (newer), still newest first. An unknown cursor gives an empty page.
   */
  list(query: ListQuery): ListPage {
    const newestFirst = [...this.order].reverse();
    const cursor = query.afterId ?? query.beforeId;
    if (cursor === undefined) {
      return { data: newestFirst.slice(0, query.limit), hasMore: newestFirst.length > query.limit };
    }
    const position = newestFirst.findIndex((batch) => batch.id === cursor);
    if (position < 0) return { data: [], hasMore: false };
    if (query.afterId !== undefined) {
      const start = position + 1;
      return { data: newestFirst.slice(start, start + query.limit), hasMore: start + query.limit < newestFirst.length };
    }
    const start = Math.max(0, position - query.limit);
    return { data: newestFirst.slice(start, position), hasMore: start > 0 };
  }

  all(): readonly StoredBatch[] {
    return this.order;
  }

  /** Replaces the contents with saved batches (oldest first). */
  restore(batches: StoredBatch[], seq: number): void {
    this.clear();
    for (const batch of batches) this.add(batch);
    this.seq = seq;
  }

  clear(): void {
    this.promptCache.clear();
    this.byId.clear();
    this.order = [];
    this.seq = 0;
  }
}
