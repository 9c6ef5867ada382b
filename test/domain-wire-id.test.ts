// Wire ids: within the API's custom_id rules, decodable to job tag, shard and line, distinct across jobs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CUSTOM_ID_PATTERN } from '../src/domain/custom-id';
import { decodeWireId, encodeWireId, wireTag } from '../src/domain/wire-id';

test('a wire id round-trips and fits the API', () => {
  const tag = wireTag('sluice-job-a-very-long-name-for-a-job-that-goes-on-and-on-20261201-090000-abc1234');
  for (const [shard, index] of [['s000000', 0], ['s123456', 99_999], ['r012-000345', 7]] as const) {
    const id = encodeWireId(tag, shard, index);
    assert.match(id, CUSTOM_ID_PATTERN);
    assert.ok(id.length <= 64);
    assert.deepEqual(decodeWireId(id), { tag, shardKey: shard, index });
  }
});

test('user custom_ids and ids of other tools are not wire ids', () => {
  for (const id of ['req-0000001', 'doc-1', 'sl_short_s000000_1', `sl_${'a'.repeat(22)}_S000000_1`]) assert.equal(decodeWireId(id), undefined);
});

test('tags are fixed-width and differ between job ids that differ in one character or one second', () => {
  const ids = Array.from({ length: 2_000 }, (_, i) => `sluice-job-chaos-20261201-0900${String(i % 60).padStart(2, '0')}-${i}`);
  const tags = new Set(ids.map(wireTag));
  assert.equal(tags.size, ids.length);
  assert.ok([...tags].every((t) => /^[0-9a-z]{22}$/.test(t)));
  assert.notEqual(wireTag('job-a'), wireTag('job-b'));
  assert.equal(wireTag('job-a'), wireTag('job-a'), 'the same job id always has the same tag');
});
