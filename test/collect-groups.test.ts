// How a round's ended batches are cut for collectBatches, and what the Web UI calls each group's activity.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COLLECT_GROUP_MAX, COLLECT_GROUP_MAX_REQUESTS, collectGroups, collectGroupSummary } from '../src/domain/collect-groups';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('groups of at most the bound, as even as possible, every batch once and in order', () => {
  assert.deepEqual(collectGroups([]), []);
  assert.deepEqual(collectGroups(range(3)), [[0, 1, 2]]);
  assert.deepEqual(collectGroups(range(COLLECT_GROUP_MAX)).map((g) => g.length), [COLLECT_GROUP_MAX]);
  assert.deepEqual(collectGroups(range(COLLECT_GROUP_MAX + 1)).map((g) => g.length), [13, 13]);
  assert.deepEqual(collectGroups(range(7), 3), [[0, 1, 2], [3, 4], [5, 6]]);
  for (const n of [1, 24, 26, 50, 51, 999]) {
    const groups = collectGroups(range(n));
    assert.equal(groups.length, Math.ceil(n / COLLECT_GROUP_MAX), `${n}: the fewest groups`);
    assert.ok(groups.every((g) => g.length <= COLLECT_GROUP_MAX && g.length >= groups[0]!.length - 1), `${n}: even and bounded`);
    assert.deepEqual(groups.flat(), range(n), `${n}: every batch once, in order`);
  }
});

test('large batches are collected in smaller groups, one larger than the bound alone', () => {
  const size = (sizes: number[]) => collectGroups(sizes, COLLECT_GROUP_MAX, (n) => n);
  // 25 batches of 100 fill one group; a 26th of 100 would pass the requests bound.
  assert.deepEqual(size(Array.from({ length: 26 }, () => 100)).map((g) => g.length), [25, 1]);
  assert.deepEqual(size([100_000, 100, 100, 50_000]), [[100_000], [100, 100], [50_000]]);
  assert.deepEqual(size([1_000, 1_000, 1_000]), [[1_000, 1_000], [1_000]]);
  const sizes = Array.from({ length: 200 }, (_, i) => (i * 37) % 1_300);
  const groups = size(sizes);
  assert.deepEqual(groups.flat(), sizes, 'every batch once, in order');
  for (const g of groups) {
    const total = g.reduce((a, b) => a + b, 0);
    assert.ok(g.length === 1 || total <= COLLECT_GROUP_MAX_REQUESTS, `a group of ${g.length} holds ${total} requests`);
    assert.ok(g.length <= COLLECT_GROUP_MAX);
  }
});

test('the summary says how many results of which sub-batches', () => {
  const b = (key: string, requests = 100) => ({ shardKey: key, requests });
  assert.equal(collectGroupSummary([b('s3', 40)]), 'collect 40 results of 1 batch: s3');
  assert.equal(collectGroupSummary([b('s0'), b('s1'), b('r1-0', 7)]), 'collect 207 results of 3 batches: s0, s1, r1-0');
  assert.equal(collectGroupSummary(range(25).map((i) => b(`s${i}`))), 'collect 2500 results of 25 batches: s0, s1, s2, s3 and 21 more');
});
