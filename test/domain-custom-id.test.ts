import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CUSTOM_ID_PATTERN, DuplicateTracker, customIdWidth, deriveCustomId } from '../src/domain/custom-id';

describe('deriveCustomId', () => {
  const cases: [index: number, width: number | undefined, id: string][] = [
    [0, undefined, 'req-0000000'],
    [42, undefined, 'req-0000042'],
    [9_999_999, undefined, 'req-9999999'],
    [10_000_000, undefined, 'req-10000000'],
    [42, customIdWidth(20_000_000), 'req-00000042'],
  ];
  for (const [index, width, id] of cases) {
    it(`${index} → ${id}`, () => assert.equal(deriveCustomId(index, width), id));
  }

  it('ids sort in input order and are valid custom_ids', () => {
    const ids = [0, 9, 10, 99, 100, 12_345].map((i) => deriveCustomId(i));
    assert.deepEqual([...ids].sort(), ids);
    for (const id of ids) assert.match(id, CUSTOM_ID_PATTERN);
  });

  it('refuses negative and fractional indexes', () => {
    assert.throws(() => deriveCustomId(-1), RangeError);
    assert.throws(() => deriveCustomId(1.5), RangeError);
  });

  it('customIdWidth grows only past 10 million requests', () => {
    assert.equal(customIdWidth(0), 7);
    assert.equal(customIdWidth(10_000_000), 7);
    assert.equal(customIdWidth(10_000_001), 8);
  });
});

describe('DuplicateTracker', () => {
  it('names both lines of a duplicate', () => {
    const t = new DuplicateTracker();
    assert.equal(t.check('a', 3), undefined);
    assert.deepEqual(t.check('a', 9), {
      line: 9,
      field: 'custom_id',
      reason: 'duplicate custom_id "a", first used on line 3',
    });
  });

  it('a user id equal to an earlier derived id is a duplicate', () => {
    const t = new DuplicateTracker();
    assert.equal(t.check(deriveCustomId(0), 1, true), undefined);
    const issue = t.check('req-0000000', 5);
    assert.equal(issue?.line, 5);
    assert.match(issue?.reason ?? '', /derived id of line 1/);
  });

  it('a derived id equal to an earlier user id is a duplicate', () => {
    const t = new DuplicateTracker();
    t.check('req-0000001', 1);
    const issue = t.check(deriveCustomId(1), 2, true);
    assert.match(issue?.reason ?? '', /derived id "req-0000001" is already the custom_id of line 1/);
    assert.equal(t.size, 1);
  });
});
