// A request's cost split by token kind (input, output, cache write, cache read), for the job report's cost chart.
// The split itself is costByKind in cost.ts, whose sum is costOfUsage: the kinds add up to the job's cost.
import { cacheWriteTokens, costByKind as costByKindOfUsage, type Usage } from './cost';

export const TOKEN_KINDS = ['input', 'output', 'cacheWrite', 'cacheRead'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];
export type ByTokenKind = Record<TokenKind, number>;

export const TOKEN_KIND_LABELS: Record<TokenKind, string> = {
  input: 'input',
  output: 'output',
  cacheWrite: 'cache write',
  cacheRead: 'cache read',
};

export function zeroByKind(): ByTokenKind {
  return { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
}

export function addByKind(a: ByTokenKind, b: ByTokenKind): ByTokenKind {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    cacheWrite: a.cacheWrite + b.cacheWrite,
    cacheRead: a.cacheRead + b.cacheRead,
  };
}

export function sumByKind(k: ByTokenKind): number {
  return k.input + k.output + k.cacheWrite + k.cacheRead;
}

/** Tokens of one usage, by kind. */
export function tokensByKind(usage: Usage): ByTokenKind {
  return {
    input: usage.input_tokens ?? 0,
    output: usage.output_tokens ?? 0,
    cacheWrite: cacheWriteTokens(usage),
    cacheRead: usage.cache_read_input_tokens ?? 0,
  };
}

/** USD of one usage by kind (the one cost rule, in cost.ts); undefined when the model has no price. */
export const costByKind = costByKindOfUsage;

