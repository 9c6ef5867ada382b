// Pure rules of packed prompts: which answers are usable, and the pack ids that can never be a row's key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CUSTOM_ID_PATTERN } from '../src/domain/custom-id';
import { messageText, packId, parsePackAnswer } from '../src/domain/pack';

test('a usable answer is a JSON array of exactly one element per item, fenced or not', () => {
  assert.deepEqual(parsePackAnswer('["a", {"b": 1}, 3]', 3), { ok: true, answers: ['a', { b: 1 }, 3] });
  assert.deepEqual(parsePackAnswer('```json\n["a", "b"]\n```', 2), { ok: true, answers: ['a', 'b'] });
  assert.deepEqual(parsePackAnswer('  ["a"]\n', 1), { ok: true, answers: ['a'] });
});

test('anything else is unusable, with the reason', () => {
  assert.deepEqual(parsePackAnswer('["a", "b"]', 3), { ok: false, reason: 'the answer has 2 elements for 3 items' });
  assert.deepEqual(parsePackAnswer('{"answers": ["a"]}', 1), { ok: false, reason: 'the answer is not a JSON array' });
  assert.deepEqual(parsePackAnswer('Here you go: ["a"]', 1), { ok: false, reason: 'the answer is not JSON' });
  assert.deepEqual(parsePackAnswer('', 1), { ok: false, reason: 'the answer is not JSON' });
});

test('pack ids are never valid custom_ids, so they cannot collide with a row\'s key', () => {
  assert.equal(packId(0), 'pack.000001');
  assert.equal(CUSTOM_ID_PATTERN.test(packId(41)), false);
});

test('the text of a reply is its text blocks joined', () => {
  assert.equal(messageText({ content: [{ type: 'text', text: '["a",' }, { type: 'tool_use' }, { type: 'text', text: '"b"]' }] }), '["a","b"]');
  assert.equal(messageText(undefined), '');
});
