import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/domain/errors';
import { DEFAULT_MAX_BATCH_BYTES } from '../src/domain/limits';
import { SplitOptionsSchema, createBatchCutter, planSubBatches } from '../src/domain/split';

describe('planSubBatches', () => {
  it('1,050 requests at the default size give 11 sub-batches, the last of 50', () => {
    const plans = planSubBatches(new Array<number>(1_050).fill(1_000));
    assert.equal(plans.length, 11);
    assert.deepEqual(plans[10], { index: 10, start: 1_000, count: 50, bytes: 50_000 });
    assert.ok(plans.slice(0, 10).every((p, i) => p.count === 100 && p.start === i * 100));
  });

  it('a byte limit closes a sub-batch before the request that would overflow it', () => {
    const plans = planSubBatches([40, 40, 40, 10, 90, 5], { maxRequests: 100, maxBytes: 100 });
    assert.deepEqual(
      plans.map((p) => [p.start, p.count, p.bytes]),
      [
        [0, 2, 80],
        [2, 2, 50],
        [4, 2, 95],
      ],
    );
  });

  it('exactly maxBytes still fits', () => {
    assert.equal(planSubBatches([50, 50], { maxBytes: 100 }).length, 1);
  });

  it('no requests, no sub-batches', () => assert.deepEqual(planSubBatches([]), []));

  it('a request larger than maxBytes is a programming error', () => {
    assert.throws(() => planSubBatches([101], { maxBytes: 100 }), /fits no sub-batch/);
  });
});

describe('createBatchCutter', () => {
  it('says cutBefore on the request that opens a new sub-batch', () => {
    const cutter = createBatchCutter({ maxRequests: 2 });
    assert.deepEqual(
      [1, 1, 1, 1, 1].map((b) => cutter.add(b).cutBefore),
      [false, false, true, false, true],
    );
    assert.deepEqual(cutter.current, { count: 1, bytes: 1 });
  });
});

describe('SplitOptionsSchema', () => {
  it('defaults to 100 requests and 256 MB minus the envelope', () => {
    assert.deepEqual(SplitOptionsSchema.parse({}), { maxRequests: 100, maxBytes: DEFAULT_MAX_BATCH_BYTES });
    assert.equal(DEFAULT_MAX_BATCH_BYTES, 256_000_000 - 15);
  });

  for (const bad of [0, 100_001, 2.5, '100']) {
    it(`refuses batch size ${JSON.stringify(bad)} with a clear message`, () => {
      assert.throws(
        () => createBatchCutter({ maxRequests: bad as number }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.field === 'split.maxRequests' &&
          err.reason.startsWith('batch size must be an integer from 1 to 100,000 (got '),
      );
    });
  }
});
