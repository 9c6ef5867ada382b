// The one price table: standard (synchronous) USD per million tokens, overridable by config.
import { z } from 'zod';
import { parseConfig } from './errors';

/** Batch requests cost half the standard price. */
export const BATCH_PRICE_MULTIPLIER = 0.5;
/** Cache writes with the default 5-minute lifetime, relative to the input price. */
export const CACHE_WRITE_5M_MULTIPLIER = 1.25;
/** Cache writes with a 1-hour lifetime, relative to the input price. */
export const CACHE_WRITE_1H_MULTIPLIER = 2;
/** Cache reads, relative to the input price. */
export const CACHE_READ_MULTIPLIER = 0.1;

const usdPerMTok = z
  .number({ error: 'must be a price in USD per million tokens' })
  .nonnegative({ error: 'must be a price ≥ 0 in USD per million tokens' });

const optionalUsd = usdPerMTok.optional();

/** One price band: input and output, and cache prices when they are not the standard multiples of input. */
const bandShape = {
  inputUsdPerMTok: usdPerMTok,
  outputUsdPerMTok: usdPerMTok,
  /** Default: input × CACHE_WRITE_5M_MULTIPLIER. */
  cacheWrite5mUsdPerMTok: optionalUsd,
  /** Default: input × CACHE_WRITE_1H_MULTIPLIER. */
  cacheWrite1hUsdPerMTok: optionalUsd,
  /** Default: input × CACHE_READ_MULTIPLIER. */
  cacheReadUsdPerMTok: optionalUsd,
};
export type PriceBand = z.infer<z.ZodObject<typeof bandShape>>;

export const ModelPriceSchema = z.strictObject({
  ...bandShape,
  /**
   * A second band for long prompts (Haiku 5.5): when a request's prompt (input + cache writes + cache reads) is
   * over `aboveInputTokens`, every token of that request costs this band's prices.
   */
  longPrompt: z
    .strictObject({ aboveInputTokens: z.number().int().positive({ error: 'must be a whole number of tokens > 0' }), ...bandShape })
    .optional(),
});
export type ModelPrice = z.infer<typeof ModelPriceSchema>;

/**
 * Model name → price. Keys are model-name characters only, so a config key can never be "__proto__" or
 * similar.
 */
export const PriceTableSchema = z.record(
  z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._:@-]*$/, { error: 'model names use letters, digits and . _ : @ -' }),
  ModelPriceSchema,
);
export type PriceTable = z.infer<typeof PriceTableSchema>;

const price = (inputUsdPerMTok: number, outputUsdPerMTok: number, extra: Partial<ModelPrice> = {}): ModelPrice => ({
  inputUsdPerMTok,
  outputUsdPerMTok,
  ...extra,
});

/**
 * Standard prices of the lineup documented late in 2026 (docs/models.md; batch = half). Cache prices follow the
 * standard multiples unless given. Retired models keep their price so the cost of jobs that ran on them is still
 * reported. A model missing here (Fable 5.2 has no published price yet) is reported as unpriced, never as $0.
 */
export const DEFAULT_PRICES: PriceTable = {
  'claude-fable-5-1': price(10, 50),
  'claude-opus-5-5': price(4, 20),
  'claude-sonnet-5-5': price(2, 10, { cacheWrite5mUsdPerMTok: 2.5, cacheWrite1hUsdPerMTok: 4, cacheReadUsdPerMTok: 0.2 }),
  'claude-haiku-5-5': price(0.1, 0.5, {
    cacheWrite5mUsdPerMTok: 0.125,
    cacheWrite1hUsdPerMTok: 0.2,
    cacheReadUsdPerMTok: 0.01,
    longPrompt: { aboveInputTokens: 100_000, inputUsdPerMTok: 0.5, outputUsdPerMTok: 2.5 },
  }),
  'claude-opus-5': price(5, 25),
  'claude-sonnet-5': price(2, 10),
  'claude-opus-4-8': price(5, 25),
  'claude-opus-4-7': price(5, 25),
  'claude-opus-4-6': price(5, 25),
  'claude-opus-4-5': price(5, 25),
  'claude-sonnet-4-6': price(3, 15),
  'claude-haiku-4-5': price(1, 5),
  'claude-sonnet-4-5': price(3, 15),
  'claude-opus-4-1': price(15, 75),
  'claude-opus-4': price(15, 75),
};

/** The default table with `overrides` (validated; throws ConfigError naming the field) on top. */
export function withPriceOverrides(overrides: unknown, base: PriceTable = DEFAULT_PRICES): PriceTable {
  return { ...base, ...parseConfig(PriceTableSchema, overrides ?? {}, 'prices') };
}

/**
 * The price of `model`: an exact key, else a key that `model` is a dated name of (claude-sonnet-4-5-20250929,
 * claude-sonnet-4-5@20250929). Undefined for any other model, even one that merely starts like a key
 * (claude-opus-5-7 is not claude-opus-5): callers count it as unpriced and say so, rather than guess a price.
 */
export function lookupPrice(model: string, prices: PriceTable = DEFAULT_PRICES): ModelPrice | undefined {
  if (Object.hasOwn(prices, model)) return prices[model];
  const dated = /^(.+)(?:-\d{8}|@.+)$/.exec(model);
  return dated && Object.hasOwn(prices, dated[1]!) ? prices[dated[1]!] : undefined;
}

/** The band of `price` a request with `promptTokens` of prompt pays, with every cache price filled in. */
export function priceBand(price: ModelPrice, promptTokens: number): Required<PriceBand> {
  const band: PriceBand = price.longPrompt !== undefined && promptTokens > price.longPrompt.aboveInputTokens ? price.longPrompt : price;
  return {
    inputUsdPerMTok: band.inputUsdPerMTok,
    outputUsdPerMTok: band.outputUsdPerMTok,
    cacheWrite5mUsdPerMTok: band.cacheWrite5mUsdPerMTok ?? band.inputUsdPerMTok * CACHE_WRITE_5M_MULTIPLIER,
    cacheWrite1hUsdPerMTok: band.cacheWrite1hUsdPerMTok ?? band.inputUsdPerMTok * CACHE_WRITE_1H_MULTIPLIER,
    cacheReadUsdPerMTok: band.cacheReadUsdPerMTok ?? band.inputUsdPerMTok * CACHE_READ_MULTIPLIER,
  };
}
