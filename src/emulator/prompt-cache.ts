/**
 * The prompt cache, as the docs describe it: the prefix of a request (tools → system → messages) up to a block marked
 * cache_control is cached when it reaches the model's minimum length; a later request with the same prefix and model
 * reads it while the entry lives (5 minutes or 1 hour from its last use); the first writes. Usage then splits the
 * prompt into cache reads, cache writes (by lifetime) and input_tokens, the remainder. Deterministic: requests are
 * taken in the order they are processed, on the nominal clock. Independent of Sluice's own prefix code on purpose.
 */
import { createHash } from 'node:crypto';
import { findServedModel, type ServedModel } from './models';
import { canonicalJson } from '../domain/canonical-json';

export interface CacheUsage {
  read: number;
  write5m: number;
  write1h: number;
}

const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const;
type Ttl = keyof typeof TTL_MS;

/**
 * Minimum cacheable prompt length by model, as the docs and trackers gave it late in 2026 (docs/prompt-cache.md);
 * a model not listed uses the largest, so the emulator never reports a cache the API might not make.
 */
const MIN_TOKENS: [RegExp, number][] = [
  [/^claude-(opus|fable|mythos)-5(-[0-9])?(\b|$)/, 512],
  [/^claude-opus-4-7/, 2_048],
  [/^claude-(sonnet-5|sonnet-4-6|sonnet-4-5|opus-4-8|opus-4-1|opus-4$|sonnet-4$)/, 1_024],
  [/^claude-(haiku|opus-4-5|opus-4-6)/, 4_096],
];
export const DEFAULT_MIN_CACHE_TOKENS = 4_096;

export function minCacheTokens(model: string, lineup: readonly ServedModel[]): number {
  const served = findServedModel(model, lineup);
  if (served?.minCacheTokens != null) return served.minCacheTokens;
  const id = served?.id ?? model;
  return MIN_TOKENS.find(([pattern]) => pattern.test(id))?.[1] ?? DEFAULT_MIN_CACHE_TOKENS;
}

/** One breakpoint of a request: the key of its prefix, the prefix's length in tokens, and its lifetime. */
export interface CachePoint {
  key: string;
  tokens: number;
  ttl: Ttl;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function ttlOf(mark: unknown): Ttl | undefined {
  if (!isObject(mark)) return undefined;
  return mark['ttl'] === '1h' ? '1h' : '5m';
}

/** The request's breakpoints in prompt order (an automatic top-level cache_control marks the last block). */
export function cachePoints(params: Record<string, unknown>, totalTokens: number): CachePoint[] {
  const blocks: unknown[] = [];
  const tools = params['tools'];
  if (Array.isArray(tools)) blocks.push(...(tools as unknown[]));
  const system = params['system'];
  if (typeof system === 'string') blocks.push({ type: 'text', text: system });
  else if (Array.isArray(system)) blocks.push(...(system as unknown[]));
  const messages = params['messages'];
  if (Array.isArray(messages)) {
    for (const message of messages) {
      if (!isObject(message)) continue;
      const content = message['content'];
      if (typeof content === 'string') blocks.push({ role: message['role'], type: 'text', text: content });
      else if (Array.isArray(content)) for (const b of content) blocks.push(isObject(b) ? { role: message['role'], ...b } : b);
    }
  }
  const automatic = ttlOf(params['cache_control']);
  const points: CachePoint[] = [];
  const hash = createHash('sha1').update(String(params['model']));
  let chars = 0;
  blocks.forEach((block, i) => {
    const { cache_control: mark, ...rest } = isObject(block) ? block : { cache_control: undefined };
    const text = canonicalJson(isObject(block) ? rest : block);
    hash.update(text);
    chars += text.length;
    const ttl = ttlOf(mark) ?? (automatic !== undefined && i === blocks.length - 1 ? automatic : undefined);
    if (ttl !== undefined) points.push({ key: hash.copy().digest('hex'), tokens: Math.min(totalTokens, Math.ceil(chars / 4)), ttl });
  });
  return points;
}

interface Entry {
  writtenAtMs: number;
  expiresAtMs: number;
}

/** Cache entries of the whole account (all batches and synchronous calls), by prefix key. */
export class PromptCache {
  private readonly entries = new Map<string, Entry>();

  private alive(key: string, atMs: number): boolean {
    const e = this.entries.get(key);
    return e !== undefined && e.writtenAtMs <= atMs && atMs <= e.expiresAtMs;
  }

  /**
   * The usage of one request processed at `atMs`: reads up to the longest live prefix, writes from there to its last
   * breakpoint; breakpoints shorter than `minTokens` cache nothing. Records the writes and refreshes what it read.
   */
  use(points: readonly CachePoint[], atMs: number, minTokens: number): CacheUsage {
    const usable = points.filter((p) => p.tokens >= minTokens);
    const usage: CacheUsage = { read: 0, write5m: 0, write1h: 0 };
    if (usable.length === 0) return usage;
    let hit = -1;
    for (let i = usable.length - 1; i >= 0; i--) {
      if (this.alive(usable[i]!.key, atMs)) {
        hit = i;
        break;
      }
    }
    usage.read = hit >= 0 ? usable[hit]!.tokens : 0;
    let covered = usage.read;
    usable.forEach((p, i) => {
      const until = atMs + TTL_MS[p.ttl];
      const e = this.entries.get(p.key);
      if (i <= hit && e) {
        e.expiresAtMs = Math.max(e.expiresAtMs, until);
        return;
      }
      const written = Math.max(0, p.tokens - covered);
      covered = Math.max(covered, p.tokens);
      if (p.ttl === '1h') usage.write1h += written;
      else usage.write5m += written;
      this.entries.set(p.key, { writtenAtMs: Math.min(e?.writtenAtMs ?? atMs, atMs), expiresAtMs: Math.max(e?.expiresAtMs ?? 0, until) });
    });
    return usage;
  }

  clear(): void {
    this.entries.clear();
  }
}
