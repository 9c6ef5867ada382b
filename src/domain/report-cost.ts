// A request's cost split by token kind (input, output, cache write, cache read), for the job report's cost chart.
// The same rules as costOfUsage (cost.ts): the kinds add up to its total.
import { cacheWriteTokens, type PriceMode, type Usage } from './cost';
import {
  BATCH_PRICE_MULTIPLIER,
  CACHE_READ_MULTIPLIER,
  CACHE_WRITE_1H_MULTIPLIER,
  CACHE_WRITE_5M_MULTIPLIER,
  DEFAULT_PRICES,
  lookupPrice,
  type PriceTable,
} from './prices';

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

/** USD of one usage by kind; undefined when the model has no price. */
export function costByKind(
  model: string,
  usage: Usage,
  mode: PriceMode,
  prices: PriceTable = DEFAULT_PRICES,
): ByTokenKind | undefined {
  const price = lookupPrice(model, prices);
  if (price === undefined) return undefined;
  const scale = (mode === 'batch' ? BATCH_PRICE_MULTIPLIER : 1) / 1_000_000;
  const written = cacheWriteTokens(usage);
  const write1h = Math.min(written, usage.cache_creation?.ephemeral_1h_input_tokens ?? 0);
  const inputUsd = price.inputUsdPerMTok * scale;
  return {
    input: (usage.input_tokens ?? 0) * inputUsd,
    output: (usage.output_tokens ?? 0) * price.outputUsdPerMTok * scale,
    cacheWrite: ((written - write1h) * CACHE_WRITE_5M_MULTIPLIER + write1h * CACHE_WRITE_1H_MULTIPLIER) * inputUsd,
    cacheRead: (usage.cache_read_input_tokens ?? 0) * CACHE_READ_MULTIPLIER * inputUsd,
  };
}
