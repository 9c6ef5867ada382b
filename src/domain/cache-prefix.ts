/**
 * A request's prompt-cache prefix, as the API builds it (docs/prompt-cache.md): the leading blocks in the order
 * tools → system → messages, up to and including the last block marked with `cache_control`. A string system prompt
 * or string message content counts as one text block. Pure: the plan activity hashes what this returns.
 */
import { isPlainObject } from './request-zod';

/** The API refuses a request with more breakpoints than this (the top-level automatic one included). */
export const MAX_CACHE_BREAKPOINTS = 4;

export type CacheTtl = '5m' | '1h';

/** A problem at a path of the request body (the shape of request-params' ParamIssue). */
export interface BreakpointIssue {
  path: (string | number)[];
  reason: string;
}

/** One leading block of a request: where it sits, and its ttl when it carries cache_control. */
export interface LeadingBlock {
  path: (string | number)[];
  block: unknown;
  ttl?: CacheTtl;
}

function ttlOf(block: unknown): CacheTtl | undefined {
  if (!isPlainObject(block)) return undefined;
  const mark = block['cache_control'];
  if (!isPlainObject(mark)) return undefined;
  return mark['ttl'] === '1h' ? '1h' : '5m';
}

const asText = (text: unknown) => ({ type: 'text', text });

/** Every block the cache sees, in its order: tools, system blocks, then each message's content blocks. */
export function leadingBlocks(params: Record<string, unknown>): LeadingBlock[] {
  const out: LeadingBlock[] = [];
  const push = (path: (string | number)[], block: unknown) => {
    const ttl = ttlOf(block);
    out.push(ttl === undefined ? { path, block } : { path, block, ttl });
  };
  const tools = params['tools'];
  if (Array.isArray(tools)) tools.forEach((tool, i) => push(['tools', i], tool));
  const system = params['system'];
  if (typeof system === 'string') push(['system'], asText(system));
  else if (Array.isArray(system)) system.forEach((block, i) => push(['system', i], block));
  const messages = params['messages'];
  if (Array.isArray(messages)) {
    messages.forEach((message, m) => {
      if (!isPlainObject(message)) return;
      const content = message['content'];
      // The role is part of what the model reads: two requests whose blocks agree but whose roles differ do not share.
      const role = message['role'];
      if (typeof content === 'string') push(['messages', m, 'content'], { role, ...asText(content) });
      else if (Array.isArray(content)) content.forEach((block, b) => push(['messages', m, 'content', b], isPlainObject(block) ? { role, ...block } : block));
    });
  }
  return out;
}

/** The block without its cache_control: what the cache key is made of (the mark says where, not what). */
export function unmarked(block: unknown): unknown {
  if (!isPlainObject(block) || !('cache_control' in block)) return block;
  const { cache_control: _mark, ...rest } = block;
  return rest;
}

/** Index (in leadingBlocks) of the last marked block; -1 when the request marks none. */
export function lastBreakpoint(blocks: readonly LeadingBlock[]): number {
  for (let i = blocks.length - 1; i >= 0; i--) if (blocks[i]!.ttl !== undefined) return i;
  return -1;
}

/**
 * What the API refuses about breakpoints: more than four (the top-level `cache_control` of automatic caching uses
 * one of the four), and a 1-hour breakpoint after a 5-minute one (longer lifetimes must come first).
 */
export function breakpointIssues(params: Record<string, unknown>): BreakpointIssue[] {
  const blocks = leadingBlocks(params);
  const marked = blocks.filter((b) => b.ttl !== undefined);
  const automatic = isPlainObject(params['cache_control']) ? 1 : 0;
  const issues: BreakpointIssue[] = [];
  if (marked.length + automatic > MAX_CACHE_BREAKPOINTS) {
    const where = automatic ? ' (the top-level cache_control counts as one)' : '';
    issues.push({
      path: marked[MAX_CACHE_BREAKPOINTS - automatic]?.path ?? ['cache_control'],
      reason: `is cache breakpoint ${MAX_CACHE_BREAKPOINTS + 1}: the API allows at most ${MAX_CACHE_BREAKPOINTS} blocks with cache_control${where}, this request has ${marked.length + automatic}`,
    });
  }
  const firstShort = marked.findIndex((b) => b.ttl === '5m');
  const lateLong = firstShort < 0 ? undefined : marked.slice(firstShort).find((b) => b.ttl === '1h');
  if (lateLong) {
    issues.push({
      path: [...lateLong.path, 'cache_control', 'ttl'],
      reason: `is "1h" after a "5m" breakpoint at ${marked[firstShort]!.path.join('.')}: the API requires longer cache lifetimes to come first`,
    });
  }
  return issues;
}

/**
 * Where --cache-prefix may add a breakpoint at leading block `index` with `ttl`, keeping the request valid: a free
 * slot of the four, and lifetimes still in order. True also when the block is already marked (nothing to add).
 */
export function canMark(params: Record<string, unknown>, index: number, ttl: CacheTtl): boolean {
  const blocks = leadingBlocks(params);
  if (blocks[index] === undefined) return false;
  if (blocks[index].ttl !== undefined) return true;
  const automatic = isPlainObject(params['cache_control']) ? 1 : 0;
  const marked = blocks.filter((b) => b.ttl !== undefined).length;
  if (marked + automatic >= MAX_CACHE_BREAKPOINTS) return false;
  const before = blocks.slice(0, index).filter((b) => b.ttl !== undefined);
  const after = blocks.slice(index + 1).filter((b) => b.ttl !== undefined);
  if (ttl === '1h') return before.every((b) => b.ttl === '1h');
  return after.every((b) => b.ttl === '5m');
}

/**
 * A copy of `params` with cache_control `{type: "ephemeral", ttl}` on leading block `index` (a string system prompt
 * or string content becomes one text block, which the API reads the same). Unchanged when already marked.
 */
export function markBlock<P extends Record<string, unknown>>(params: P, index: number, ttl: CacheTtl): P {
  const target = leadingBlocks(params)[index];
  if (target === undefined) throw new RangeError(`no leading block ${index}`);
  if (target.ttl !== undefined) return params;
  const mark = { type: 'ephemeral', ttl };
  const copy = structuredClone(params) as Record<string, unknown>;
  const [field, a, , b] = target.path as [string, number | undefined, string | undefined, number | undefined];
  if (field === 'tools') (copy['tools'] as Record<string, unknown>[])[a!]!['cache_control'] = mark;
  else if (field === 'system' && a === undefined) copy['system'] = [{ type: 'text', text: copy['system'], cache_control: mark }];
  else if (field === 'system') (copy['system'] as Record<string, unknown>[])[a!]!['cache_control'] = mark;
  else {
    const message = (copy['messages'] as Record<string, unknown>[])[a!]!;
    if (b === undefined) message['content'] = [{ type: 'text', text: message['content'], cache_control: mark }];
    else (message['content'] as Record<string, unknown>[])[b]!['cache_control'] = mark;
  }
  return copy as P;
}

/**
 * Whether marking a prefix that `requests` requests share pays, by the price multipliers (write 1.25× for 5
 * minutes or 2× for 1 hour, read 0.1×): one write and n − 1 reads against n plain inputs. With 1 hour it takes 3.
 */
export function cachingPays(requests: number, ttl: CacheTtl): boolean {
  const write = ttl === '1h' ? 2 : 1.25;
  return write + 0.1 * (requests - 1) < requests;
}

/** The fewest requests that must share a prefix for --cache-prefix to mark it. */
export function minSharing(ttl: CacheTtl): number {
  let n = 2;
  while (!cachingPays(n, ttl)) n++;
  return n;
}
