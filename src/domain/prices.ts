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

export const ModelPriceSchema = z.strictObject({ inputUsdPerMTok: usdPerMTok, outputUsdPerMTok: usdPerMTok });
export type ModelPrice = z.infer<typeof ModelPriceSchema>;

/**
 * Model name (or family prefix) → price. Keys are model-name characters only, so a config key can
 * never be "__proto__" or similar.
 */
export const PriceTableSchema = z.record(
  z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._:@-]*$/, { error: 'model names use letters, digits and . _ : @ -' }),
  ModelPriceSchema,
);
export type PriceTable = z.infer<typeof PriceTableSchema>;

/** Standard prices (illustrative; see shared/message-batches-api.md). */
export const DEFAULT_PRICES: PriceTable = {
  'claude-haiku-4-5': { inputUsdPerMTok: 1, outputUsdPerMTok: 5 },
  'claude-sonnet-4-5': { inputUsdPerMTok: 3, outputUsdPerMTok: 15 },
  'claude-opus-4-1': { inputUsdPerMTok: 15, outputUsdPerMTok: 75 },
};

/** The default table with `overrides` (validated; throws ConfigError naming the field) on top. */
export function withPriceOverrides(overrides: unknown, base: PriceTable = DEFAULT_PRICES): PriceTable {
  return { ...base, ...parseConfig(PriceTableSchema, overrides ?? {}, 'prices') };
}

/**
 * The price of `model`: an exact key, else the longest key that `model` starts with followed by "-"
 * or "@" (dated names: claude-sonnet-4-5-20250929, claude-sonnet-4-5@20250929). Undefined for an
 * unknown model: callers count it as unpriced and say so, rather than guess a price.
 */
export function lookupPrice(model: string, prices: PriceTable = DEFAULT_PRICES): ModelPrice | undefined {
  if (Object.hasOwn(prices, model)) return prices[model];
  let best: string | undefined;
  for (const key of Object.keys(prices)) {
    const boundary = model[key.length];
    if (model.startsWith(key) && (boundary === '-' || boundary === '@') && key.length > (best?.length ?? 0)) best = key;
  }
  return best === undefined ? undefined : prices[best];
}
