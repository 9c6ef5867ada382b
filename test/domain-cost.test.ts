import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { addTallies, addUsage, costByKind, costOfUsage, emptyTally } from '../src/domain/cost';
import { ConfigError } from '../src/domain/errors';
import { DEFAULT_PRICES, lookupPrice, withPriceOverrides } from '../src/domain/prices';

const close = (actual: number | undefined, expected: number) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);

describe('lookupPrice', () => {
  const cases: [model: string, input: number | undefined][] = [
    ['claude-haiku-4-5', 1],
    ['claude-sonnet-4-5', 3],
    ['claude-sonnet-4-5-20250929', 3],
    ['claude-sonnet-4-5@20250929', 3],
    ['claude-opus-4-1', 15],
    ['claude-sonnet-4-50', undefined],
    ['claude-sonnet-4', undefined],
    ['gpt-4', undefined],
  ];
  for (const [model, input] of cases) {
    it(`${model} → ${input ?? 'no price'}`, () => assert.equal(lookupPrice(model)?.inputUsdPerMTok, input));
  }

  it('the longest matching prefix wins', () => {
    const prices = { ...DEFAULT_PRICES, 'claude-opus-4': { inputUsdPerMTok: 99, outputUsdPerMTok: 99 } };
    assert.equal(lookupPrice('claude-opus-4-1-20250805', prices)?.inputUsdPerMTok, 15);
    assert.equal(lookupPrice('claude-opus-4-20250514', prices)?.inputUsdPerMTok, 99);
  });
});

describe('withPriceOverrides', () => {
  it('adds and replaces models', () => {
    const prices = withPriceOverrides({
      'claude-haiku-4-5': { inputUsdPerMTok: 0.8, outputUsdPerMTok: 4 },
      'my-model': { inputUsdPerMTok: 2, outputUsdPerMTok: 8 },
    });
    assert.equal(lookupPrice('claude-haiku-4-5', prices)?.inputUsdPerMTok, 0.8);
    assert.equal(lookupPrice('my-model', prices)?.outputUsdPerMTok, 8);
    assert.equal(lookupPrice('claude-opus-4-1', prices)?.inputUsdPerMTok, 15);
  });

  it('names a bad field', () => {
    assert.throws(
      () => withPriceOverrides({ 'claude-x': { inputUsdPerMTok: -1, outputUsdPerMTok: 1 } }),
      (err: unknown) => err instanceof ConfigError && err.field === 'prices.claude-x.inputUsdPerMTok',
    );
    assert.throws(
      () => withPriceOverrides({ __proto__: null, 'bad key!': { inputUsdPerMTok: 1, outputUsdPerMTok: 1 } }),
      ConfigError,
    );
  });
});

describe('costOfUsage', () => {
  // Sonnet 4.5 at $3 / $15 per MTok: 1,000,000 in + 200,000 out = $3 + $3 = $6 sync, $3 batch.
  const plain = { input_tokens: 1_000_000, output_tokens: 200_000 };
  it('sync price', () => close(costOfUsage('claude-sonnet-4-5', plain, 'sync'), 6));
  it('batch is half', () => close(costOfUsage('claude-sonnet-4-5-20250929', plain, 'batch'), 3));

  // Haiku 4.5 at $1 / $5: 100k in ($0.10) + 400k cache writes ×1.25 ($0.50) + 1M cache reads ×0.1 ($0.10)
  // + 20k out ($0.10) = $0.80 sync, $0.40 batch.
  const cached = {
    input_tokens: 100_000,
    output_tokens: 20_000,
    cache_creation_input_tokens: 400_000,
    cache_read_input_tokens: 1_000_000,
  };
  it('cache multipliers, sync', () => close(costOfUsage('claude-haiku-4-5', cached, 'sync'), 0.8));
  it('cache multipliers stack with the batch discount', () =>
    close(costOfUsage('claude-haiku-4-5', cached, 'batch'), 0.4));

  // Of the 400k writes, 100k are 1-hour (×2): 300k × 1.25 + 100k × 2 = 575k input-equivalents ($0.575).
  it('1-hour cache writes cost double', () => {
    const usage = {
      ...cached,
      cache_creation: { ephemeral_5m_input_tokens: 300_000, ephemeral_1h_input_tokens: 100_000 },
    };
    close(costOfUsage('claude-haiku-4-5', usage, 'sync'), 0.1 + 0.575 + 0.1 + 0.1);
  });

  it('null counts are zero', () =>
    close(costOfUsage('claude-haiku-4-5', { input_tokens: 1_000_000, cache_read_input_tokens: null }, 'sync'), 1));
  it('unknown model has no cost', () => assert.equal(costOfUsage('mystery-1', plain, 'sync'), undefined));
});

describe('CostTally', () => {
  it('adds usage without changing the old tally', () => {
    const start = emptyTally();
    const one = addUsage(start, 'claude-sonnet-4-5', { input_tokens: 1_000_000, output_tokens: 200_000 }, 'batch');
    assert.deepEqual(start, emptyTally());
    close(one.usd, 3);
    close(one.syncEquivalentUsd, 6);
    assert.equal(one.inputTokens, 1_000_000);
    assert.equal(one.outputTokens, 200_000);
  });

  it('counts tokens of unpriced models and names them', () => {
    let tally = addUsage(emptyTally(), 'mystery-1', { input_tokens: 10, cache_creation_input_tokens: 4 }, 'batch');
    tally = addUsage(tally, 'mystery-1', { cache_read_input_tokens: 7 }, 'sync');
    assert.deepEqual(tally, {
      ...emptyTally(),
      inputTokens: 10,
      cacheCreationInputTokens: 4,
      cacheReadInputTokens: 7,
      unpricedRequests: 2,
      unpricedModels: ['mystery-1'],
    });
    assert.deepEqual(JSON.parse(JSON.stringify(tally)), tally);
  });

  it('adds tallies', () => {
    const a = addUsage(emptyTally(), 'b-model', { input_tokens: 1 }, 'batch');
    const b = addUsage(emptyTally(), 'a-model', { input_tokens: 2 }, 'batch');
    const sum = addTallies(a, addTallies(b, a));
    assert.equal(sum.inputTokens, 4);
    assert.deepEqual(sum.unpricedModels, ['a-model', 'b-model']);
  });
});

test('the cost by token kind adds up to the cost, in both price bands of Haiku 5.5 and with cache tokens', () => {
  const usages = [
    { input_tokens: 2_000, output_tokens: 500, cache_creation_input_tokens: 1_000, cache_read_input_tokens: 3_000 },
    { input_tokens: 150_000, output_tokens: 800, cache_read_input_tokens: 20_000 },
  ];
  for (const usage of usages) {
    for (const mode of ['batch', 'sync'] as const) {
      const kinds = costByKind('claude-haiku-5-5', usage, mode)!;
      const total = kinds.input + kinds.output + kinds.cacheWrite + kinds.cacheRead;
      assert.ok(Math.abs(total - costOfUsage('claude-haiku-5-5', usage, mode)!) < 1e-12, `${mode} ${usage.input_tokens}`);
    }
  }
  // Over 100k prompt tokens every token is charged at the long-prompt band: $0.50 / $2.50 per million, standard.
  const long = costByKind('claude-haiku-5-5', usages[1]!, 'sync')!;
  assert.ok(Math.abs(long.input - (150_000 * 0.5) / 1_000_000) < 1e-12);
  assert.ok(Math.abs(long.output - (800 * 2.5) / 1_000_000) < 1e-12);
});
