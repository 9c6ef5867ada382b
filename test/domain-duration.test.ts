import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurationSchema, formatDuration, parseDuration } from '../src/domain/duration';
import { ConfigError } from '../src/domain/errors';

describe('parseDuration', () => {
  const cases: [text: string, ms: number][] = [
    ['30h', 108_000_000],
    ['90m', 5_400_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['500ms', 500],
    ['2d', 172_800_000],
    ['45s', 45_000],
    ['1.5h', 5_400_000],
    ['1m5s250ms', 65_250],
    ['0s', 0],
    [' 4h ', 14_400_000],
  ];
  for (const [text, ms] of cases) it(`${text} → ${ms}`, () => assert.equal(parseDuration(text), ms));

  const bad: [text: string, why: RegExp][] = [
    ['5 parsecs', /unknown unit "parsecs"/],
    ['1h 30', /"30" has no unit/],
    ['30', /has no unit/],
    ['', /is empty/],
    ['-5m', /cannot read "-5m"/],
    ['30m1h', /largest to smallest/],
    ['1h1h', /largest to smallest/],
    ['h', /cannot read "h"/],
  ];
  for (const [text, why] of bad) {
    it(`rejects ${JSON.stringify(text)} naming the input`, () => {
      assert.throws(
        () => parseDuration(text, 'sla'),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.field === 'sla' &&
          err.message.startsWith(`sla: ${JSON.stringify(text)} is not a duration`) &&
          why.test(err.message) &&
          err.message.includes('e.g. 500ms, 45s, 90m, 30h, 2d or 1h30m'),
      );
    });
  }
});

describe('formatDuration', () => {
  const cases: [ms: number, text: string][] = [
    [14_400_000, '4h'],
    [5_400_000, '1h 30m'],
    [850, '850ms'],
    [0, '0ms'],
    [1_500, '1s 500ms'],
    [93_600_000, '26h'],
    [172_800_000, '48h'],
    [-60_000, '-1m'],
  ];
  for (const [ms, text] of cases) it(`${ms} → ${text}`, () => assert.equal(formatDuration(ms), text));

  it('parseDuration reads formatDuration back', () => {
    for (const ms of [1, 999, 1_000, 61_001, 90_061_001, 2 * 86_400_000])
      assert.equal(parseDuration(formatDuration(ms)), ms);
  });
});

describe('DurationSchema', () => {
  it('accepts strings and milliseconds', () => {
    assert.equal(DurationSchema.parse('2h'), 7_200_000);
    assert.equal(DurationSchema.parse(1_234), 1_234);
  });

  it('explains a bad value', () => {
    const result = DurationSchema.safeParse('soon');
    assert.match(result.error?.issues[0]?.message ?? '', /"soon" is not a duration/);
    assert.equal(DurationSchema.safeParse(-1).success, false);
    assert.equal(DurationSchema.safeParse(true).success, false);
  });
});
