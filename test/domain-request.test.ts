import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8Bytes } from '../src/domain/limits';
import { JobDefaultsSchema, validateInputLine } from '../src/domain/request';
import type { InputIssue, JobDefaults } from '../src/domain/request';

const opts = { maxRequestBytes: 262_144 };
const defaults: JobDefaults = { model: 'claude-haiku-4-5', max_tokens: 100 };
const hi = [{ role: 'user', content: 'hi' }];

function issuesOf(text: string, line = 7, d: JobDefaults = defaults): InputIssue[] {
  const result = validateInputLine(text, line, d, opts);
  assert.equal(result.ok, false, `expected ${text.slice(0, 60)} to be refused`);
  return result.ok === false ? result.errors : [];
}

describe('validateInputLine: refusals name the line and field', () => {
  const cases: { name: string; line: unknown; expected: Omit<InputIssue, 'line'>[] }[] = [
    {
      name: 'max_tokens 0 and no messages',
      line: { params: { max_tokens: 0, messages: [] } },
      expected: [
        { field: 'params.max_tokens', reason: 'must be an integer ≥ 1 (got 0)' },
        { field: 'params.messages', reason: 'must have at least one message (got an empty array)' },
      ],
    },
    {
      name: 'fractional max_tokens',
      line: { params: { max_tokens: 1.5, messages: hi } },
      expected: [{ field: 'params.max_tokens', reason: 'must be an integer ≥ 1 (got 1.5)' }],
    },
    {
      name: 'missing messages',
      line: { params: {} },
      expected: [{ field: 'params.messages', reason: 'is required' }],
    },
    {
      name: 'bad role and a non-object message',
      line: { params: { messages: [{ role: 'system', content: 'x' }, 3] } },
      expected: [
        { field: 'params.messages[0].role', reason: 'must be "user" or "assistant" (got "system")' },
        { field: 'params.messages[1]', reason: 'must be an object with "role" and "content" (got 3)' },
      ],
    },
    {
      name: 'custom_id too long',
      line: { custom_id: 'x'.repeat(70), params: { messages: hi } },
      expected: [{ field: 'custom_id', reason: 'must match ^[a-zA-Z0-9_-]{1,64}$ (got 70 characters)' }],
    },
    {
      name: 'custom_id with a space',
      line: { custom_id: 'a b', params: { messages: hi } },
      expected: [{ field: 'custom_id', reason: 'must match ^[a-zA-Z0-9_-]{1,64}$ (got "a b")' }],
    },
    {
      name: 'streaming',
      line: { params: { messages: hi, stream: true } },
      expected: [{ field: 'params.stream', reason: 'stream: true is not allowed in a batch' }],
    },
    {
      name: 'typo "param" is named, with a hint',
      line: { param: { messages: hi } },
      expected: [
        {
          field: 'param',
          reason: 'is not a known field; a line has only "custom_id" and "params" (did you mean "params"?)',
        },
        { field: 'params', reason: 'is required' },
      ],
    },
    {
      name: 'params not an object',
      line: { params: 'x' },
      expected: [{ field: 'params', reason: 'must be an object (a Messages API body) (got "x")' }],
    },
    {
      name: 'stream must be false or absent',
      line: { params: { messages: hi, stream: 'no' } },
      expected: [{ field: 'params.stream', reason: 'must be false or absent (got "no")' }],
    },
    {
      name: 'system blocks must be text blocks',
      line: { params: { messages: hi, system: [{ type: 'image' }] } },
      expected: [
        {
          field: 'params.system',
          reason:
            'must be a string or an array of text blocks ({"type": "text", "text": "..."}) (got an array of 1 item)',
        },
      ],
    },
    {
      name: 'empty model',
      line: { params: { model: '', messages: hi } },
      expected: [{ field: 'params.model', reason: 'must be a non-empty model name (got "")' }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(
        issuesOf(JSON.stringify(c.line)),
        c.expected.map((e) => ({ line: 7, ...e })),
      );
    });
  }

  it('without defaults, model and max_tokens are required', () => {
    assert.deepEqual(issuesOf(JSON.stringify({ params: { messages: hi } }), 3, {}), [
      { line: 3, field: 'params.model', reason: 'is required' },
      { line: 3, field: 'params.max_tokens', reason: 'is required' },
    ]);
  });

  it('free text is never echoed into a reason', () => {
    const [issue] = issuesOf(JSON.stringify({ params: { messages: 'Tell me a secret story about dragons' } }));
    assert.equal(issue?.reason, 'must be a non-empty array of messages (got a string of 36 characters)');
  });
});

describe('validateInputLine: line shapes', () => {
  it('invalid JSON says so without quoting the line', () => {
    const [issue] = issuesOf('{"params": {"secret prompt": }');
    assert.match(issue?.reason ?? '', /^is not valid JSON: /);
    assert.doesNotMatch(issue?.reason ?? '', /secret/);
    assert.equal(issue?.field, undefined);
    assert.equal(issue?.line, 7);
  });

  for (const [text, got] of [
    ['[1,2]', 'an array of 2 items'],
    ['"hello"', '"hello"'],
    ['null', 'null'],
    ['42', '42'],
  ]) {
    it(`a JSON ${got} is refused`, () => {
      assert.deepEqual(issuesOf(text!), [
        {
          line: 7,
          reason: `must be a JSON object like {"custom_id": "...", "params": {...}} (got ${got})`,
        },
      ]);
    });
  }

  for (const text of ['', '   ', '\r', '\uFEFF', '\t\r']) {
    it(`blank line ${JSON.stringify(text)} is skipped`, () => {
      assert.deepEqual(validateInputLine(text, 1, defaults, opts), { ok: 'blank' });
    });
  }

  it('strips a BOM and a trailing \\r, merges defaults (params win), passes checked params on as written', () => {
    const line = JSON.stringify({
      custom_id: 'a-1',
      params: { max_tokens: 5, messages: hi, tools: [{ name: 't', input_schema: { type: 'object' } }], top_p: 0.9 },
    });
    const result = validateInputLine(`\uFEFF${line}\r`, 1, { ...defaults, system: 'be brief' }, opts);
    assert.equal(result.ok, true);
    if (result.ok !== true) return;
    assert.equal(result.customId, 'a-1');
    assert.deepEqual(result.params, {
      max_tokens: 5,
      messages: hi,
      tools: [{ name: 't', input_schema: { type: 'object' } }],
      top_p: 0.9,
      model: 'claude-haiku-4-5',
      system: 'be brief',
    });
  });

  it('bytes are the params as JSON plus the item envelope (91 bytes), counted in UTF-8', () => {
    const params = { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'é' }] };
    const result = validateInputLine(JSON.stringify({ params }), 1, {}, opts);
    assert.equal(result.ok, true);
    if (result.ok === true) assert.equal(result.bytes, JSON.stringify(params).length + 1 + 91);
    if (result.ok === true) assert.equal(result.customId, undefined);
  });

  // 300,000 characters of content + 87 bytes of JSON around them + the 91-byte item envelope.
  it('a request over the byte limit says by how much', () => {
    const issues = issuesOf(JSON.stringify({ params: { messages: [{ role: 'user', content: 'y'.repeat(300_000) }] } }));
    assert.deepEqual(issues, [{ line: 7, reason: 'request is 300,178 bytes, over the limit of 262,144' }]);
  });

  it('__proto__ keys are refused by name and pollute nothing', () => {
    const text = '{"custom_id":"p","params":{"messages":[{"role":"user","content":"hi"}],"__proto__":{"polluted":1}}}';
    const result = validateInputLine(text, 1, defaults, opts);
    assert.deepEqual(result, { ok: false, errors: [{ line: 1, field: 'params.__proto__', reason: 'is not a Messages API parameter' }] });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('validateInputLine: what the fast paths must not miss', () => {
  it('a __proto__ key spelled with an escape is refused as one spelled plainly', () => {
    const text = '{"params":{"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi","\\u005f_proto__":{"polluted":1}}]}}';
    const result = validateInputLine(text, 3, {}, opts);
    assert.deepEqual(result, { ok: false, errors: [{ line: 3, field: 'params.messages[0].__proto__', reason: 'is not a field of anything in a Messages API request' }] });
  });

  it('a duplicate key is found in a line whose keys are the usual two, and in one with a default merged', () => {
    const text = '{"custom_id":"d","params":{"model":"claude-haiku-4-5","max_tokens":5,"max_tokens":6,"messages":[{"role":"user","content":"hi"}]}}';
    for (const d of [{}, { temperature: 0.5 }]) {
      const result = validateInputLine(text, 2, d, opts);
      assert.deepEqual(result.ok === false && result.errors.map((e) => e.field), ['params.max_tokens']);
    }
  });

  it('a request is measured in UTF-8 bytes, as the API counts them: 2-, 3- and 4-byte characters, a lone surrogate', () => {
    for (const text of ['plain', 'é'.repeat(100), '中文', '😀x😀', '\ud800', 'a\udc00b', '\ud83d\ud83d\ude00', '']) {
      assert.equal(utf8Bytes(text), Buffer.byteLength(text), JSON.stringify(text));
    }
  });
});

describe('JobDefaultsSchema', () => {
  it('refuses unknown defaults and bad values by name', () => {
    const result = JobDefaultsSchema.safeParse({ modle: 'x', max_tokens: 0 });
    assert.equal(result.success, false);
    const messages = result.error?.issues.map((i) => i.message);
    assert.deepEqual(messages, ['must be an integer ≥ 1 (got 0)', 'unknown job default(s): modle']);
  });

  it('accepts the four known defaults', () => {
    const d = { model: 'claude-sonnet-4-5', max_tokens: 1024, system: 'x', temperature: 0.2 };
    assert.deepEqual(JobDefaultsSchema.parse(d), d);
  });
});
