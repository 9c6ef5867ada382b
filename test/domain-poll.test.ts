import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PollOptionsSchema, nextPollIntervalMs } from '../src/domain/poll';

describe('nextPollIntervalMs', () => {
  it('starts at 30 s, grows ×1.5 while nothing moves, stops at 5 min', () => {
    const seen: number[] = [];
    let interval: number | undefined;
    for (let i = 0; i < 8; i++) seen.push((interval = nextPollIntervalMs(interval)));
    assert.deepEqual(seen, [30_000, 45_000, 67_500, 101_250, 151_875, 227_813, 300_000, 300_000]);
  });

  it('resets when the caller passes undefined after progress', () =>
    assert.equal(nextPollIntervalMs(undefined), 30_000));

  it('never goes below the initial interval', () => {
    assert.equal(nextPollIntervalMs(10, PollOptionsSchema.parse({ initialMs: 1_000, growth: 1 })), 1_000);
  });
});

describe('PollOptionsSchema', () => {
  it('defaults', () =>
    assert.deepEqual(PollOptionsSchema.parse({}), { initialMs: 30_000, growth: 1.5, capMs: 300_000 }));

  const bad: [options: object, message: RegExp][] = [
    [{ growth: 0.5 }, /≥ 1/],
    [{ initialMs: 0 }, /at least 1 ms/],
    [{ initialMs: 60_000, capMs: 1_000 }, /capMs must be ≥ initialMs/],
    [{ intialMs: 5 }, /intialMs/],
  ];
  for (const [options, message] of bad) {
    it(`refuses ${JSON.stringify(options)}`, () => {
      const result = PollOptionsSchema.safeParse(options);
      assert.match(result.error?.issues.map((i) => i.message).join('; ') ?? '', message);
    });
  }
});
