// A succeeded answer is filed as the text the API sent it in: the cut must give exactly the message, or nothing
// (then collect serializes the parsed message, as before). A wrong cut would file an answer the API never gave.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outcomeLineWithMessage, succeededMessageText, type ParsedResultLine } from '../src/domain/result-line-text';

const fields = { custom_id: 'doc-1', line: 3, attempts: 1, batch_ids: ['msgbatch_1'], mode: 'batch', status: 'succeeded' };
const cut = (line: string) => succeededMessageText(line, JSON.parse(line) as ParsedResultLine);

test('an answer as the API sends it is cut whole, and the outcome line is what serializing it would give', () => {
  const message = {
    id: 'msg_1',
    type: 'message',
    content: [{ type: 'text', text: 'a "quoted" word, a \\ backslash, }} braces ]] and \u00e9\u4e2d\ud83d\ude00, a tab\t and a new\nline' }],
    usage: { input_tokens: 5, output_tokens: 7 },
  };
  const line = JSON.stringify({ custom_id: 'sl_x_s000000_0', result: { type: 'succeeded', message } });
  const text = cut(line);
  assert.equal(text, JSON.stringify(message));
  assert.equal(outcomeLineWithMessage(fields, text), JSON.stringify({ ...fields, message }));
});

test('text the API escaped differently is kept as sent, and reads back as the same answer', () => {
  const line = '{"custom_id":"a","result":{"type":"succeeded","message":{"content":[{"type":"text","text":"caf\\u00e9 \\"x\\\\\\""}]}}}  \n';
  const text = cut(line)!;
  assert.equal(text, '{"content":[{"type":"text","text":"caf\\u00e9 \\"x\\\\\\""}]}');
  assert.deepEqual(JSON.parse(outcomeLineWithMessage(fields, text)), { ...fields, message: { content: [{ type: 'text', text: 'café "x\\"' }] } });
});

test('a line of another shape is not cut: the parsed message is serialized instead', () => {
  const lines = [
    // another result type, keys in another order, an extra key, spacing the cut cannot follow
    '{"custom_id":"a","result":{"type":"errored","error":{"type":"error","error":{"type":"overloaded_error","message":"m"}}}}',
    '{"result":{"type":"succeeded","message":{"id":"m"}},"custom_id":"a"}',
    '{"custom_id":"a","result":{"type":"succeeded","message":{"id":"m"},"extra":1}}',
    '{"custom_id":"a","result":{"type":"succeeded","message":{"id":"m"}},"extra":{"x":{}}}',
    '{ "custom_id": "a", "result": { "type": "succeeded", "message": { "id": "m" } } }',
    // repeated keys: JSON.parse keeps the last, a cut would hold both
    '{"custom_id":"a","result":{"type":"succeeded","message":{"id":"m1"},"message":{"id":"m2"}}}',
    '{"custom_id":"a","result":{"type":"succeeded","message":{"id":"m1"}},"result":{"type":"succeeded","message":{"id":"m2"}}}',
  ];
  for (const line of lines) assert.equal(cut(line), undefined, line);
});
