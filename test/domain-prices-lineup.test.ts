// The price table of the current lineup: every model's standard price, cache prices, Haiku 5.5's two prompt-length
// bands, the batch discount on all of it, and models without a price reported as unpriced (never $0).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { costLine } from '../src/cli/summary';
import { addUsage, costOfUsage, emptyTally } from '../src/domain/cost';
import { MODEL_LINEUP } from '../src/domain/models';
import { lookupPrice, withPriceOverrides } from '../src/domain/prices';

const close = (actual: number | undefined, expected: number) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${actual} ≠ ${expected}`);
const M = 1_000_000;

describe('the price table of the current lineup', () => {
  const standard: [string, number, number][] = [
    ['claude-fable-5-1', 10, 50],
    ['claude-opus-5-5', 4, 20],
    ['claude-sonnet-5-5', 2, 10],
    ['claude-haiku-5-5', 0.1, 0.5],
    ['claude-opus-5', 5, 25],
    ['claude-opus-4-8', 5, 25],
    ['claude-opus-4-5', 5, 25],
    ['claude-sonnet-5', 2, 10],
    ['claude-sonnet-4-6', 3, 15],
    ['claude-haiku-4-5', 1, 5],
  ];
  for (const [model, input, output] of standard) {
    it(`${model}: $${input} / $${output} per million tokens, half in a batch`, () => {
      // 100,000 tokens each way: inside Haiku 5.5's low band.
      const n = 100_000;
      close(costOfUsage(model, { input_tokens: n }, 'sync'), (n * input) / M);
      close(costOfUsage(model, { output_tokens: n }, 'sync'), (n * output) / M);
      close(costOfUsage(model, { input_tokens: n, output_tokens: n }, 'batch'), (n * (input + output)) / M / 2);
    });
  }

  it('every active model of the lineup but Fable 5.2 has a price', () => {
    const missing = MODEL_LINEUP.filter((m) => m.lifecycle !== 'retired' && lookupPrice(m.id) === undefined).map((m) => m.id);
    assert.deepEqual(missing, ['claude-fable-5-2']);
  });

  it('Sonnet 5.5 cache prices: $2.50 5-minute write, $4 1-hour write, $0.20 read', () => {
    close(costOfUsage('claude-sonnet-5-5', { cache_creation_input_tokens: M }, 'sync'), 2.5);
    close(costOfUsage('claude-sonnet-5-5', { cache_creation_input_tokens: M, cache_creation: { ephemeral_1h_input_tokens: M } }, 'sync'), 4);
    close(costOfUsage('claude-sonnet-5-5', { cache_read_input_tokens: M }, 'sync'), 0.2);
    close(costOfUsage('claude-sonnet-5-5', { cache_read_input_tokens: M }, 'batch'), 0.1);
  });

  it('Haiku 5.5: $0.10 / $0.50 up to 100k prompt tokens, $0.50 / $2.50 on every token above', () => {
    // 100,000 prompt tokens (input + cache) is the low band; one more moves the whole request to the high band.
    close(costOfUsage('claude-haiku-5-5', { input_tokens: 100_000, output_tokens: 1_000 }, 'sync'), (100_000 * 0.1 + 1_000 * 0.5) / M);
    close(costOfUsage('claude-haiku-5-5', { input_tokens: 100_001, output_tokens: 1_000 }, 'sync'), (100_001 * 0.5 + 1_000 * 2.5) / M);
    close(
      costOfUsage('claude-haiku-5-5', { input_tokens: 1_000, cache_read_input_tokens: 99_001, output_tokens: 10 }, 'sync'),
      (1_000 * 0.5 + 99_001 * 0.05 + 10 * 2.5) / M,
    );
    // Its low-band cache prices: $0.125 write (5 m), $0.20 write (1 h), $0.01 read.
    close(costOfUsage('claude-haiku-5-5', { cache_creation_input_tokens: 50_000 }, 'sync'), (50_000 * 0.125) / M);
    close(costOfUsage('claude-haiku-5-5', { cache_read_input_tokens: 50_000 }, 'batch'), (50_000 * 0.01) / M / 2);
  });

  it('dated names take their model\'s price; a name that only starts like a priced one does not', () => {
    assert.equal(lookupPrice('claude-haiku-4-5-20251001')?.inputUsdPerMTok, 1);
    assert.equal(lookupPrice('claude-opus-5-7'), undefined);
    assert.equal(lookupPrice('claude-fable-5-2'), undefined);
  });

  it('a long-prompt band can be configured, and a bad one is named', () => {
    const prices = withPriceOverrides({ 'my-model': { inputUsdPerMTok: 1, outputUsdPerMTok: 2, longPrompt: { aboveInputTokens: 10, inputUsdPerMTok: 3, outputUsdPerMTok: 4 } } });
    close(costOfUsage('my-model', { input_tokens: 11 }, 'sync', prices), (11 * 3) / M);
    assert.throws(() => withPriceOverrides({ x: { inputUsdPerMTok: 1, outputUsdPerMTok: 1, longPrompt: { aboveInputTokens: 0, inputUsdPerMTok: 1, outputUsdPerMTok: 1 } } }), /prices\.x\.longPrompt\.aboveInputTokens/);
  });

  it('a job on a model without a price reads "unpriced", never $0; a partly priced one "at least"', () => {
    const unpriced = addUsage(emptyTally(), 'claude-fable-5-2', { input_tokens: 1_000, output_tokens: 100 }, 'batch');
    assert.equal(unpriced.usd, 0);
    assert.deepEqual(unpriced.unpricedModels, ['claude-fable-5-2']);
    const summary = { costUsd: unpriced.usd, syncEquivalentUsd: unpriced.syncEquivalentUsd, savedUsd: 0, unpricedModels: unpriced.unpricedModels };
    assert.equal(costLine(summary), '  cost       unpriced');
    assert.doesNotMatch(costLine(summary), /\$0/);
    const partly = addUsage(unpriced, 'claude-haiku-5-5', { input_tokens: M }, 'batch');
    assert.match(costLine({ ...summary, costUsd: partly.usd, syncEquivalentUsd: partly.syncEquivalentUsd, unpricedModels: partly.unpricedModels }), /^ {2}cost {7}at least \$0\.2500 /);
  });
});
