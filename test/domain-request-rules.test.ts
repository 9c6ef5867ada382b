// The pieces of the request checks that the corpus does not pin down line by line: suggestions, duplicate keys in
// deep input, image bytes against their media type, the model catalog (aliases, dated names, the account's list),
// and per-model rules that let the valid through.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base64Problem, imageTypeOf } from '../src/domain/base64';
import { suggestName } from '../src/domain/did-you-mean';
import { findDuplicateKey } from '../src/domain/json-duplicate-keys';
import { catalogFromModelInfos, findModel, fixedSampling, LINEUP_CATALOG, modelGeneration } from '../src/domain/models';
import { validateInputLine } from '../src/domain/request';
import { modelIssues } from '../src/domain/request-model-rules';
import { KNOWN_PARAMS } from '../src/domain/request-params';

const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
const hi = [{ role: 'user', content: 'hi' }];

describe('did you mean', () => {
  const cases: [string, string | undefined][] = [
    ['max_token', 'max_tokens'],
    ['maxTokens', 'max_tokens'],
    ['max-tokens', 'max_tokens'],
    ['temprature', 'temperature'],
    ['stop_sequence', 'stop_sequences'],
    ['tool', 'tools'],
    ['systme', 'system'],
    ['top-p', 'top_p'],
    ['prompt', undefined],
    ['xyz', undefined],
  ];
  for (const [word, expected] of cases) it(`${word} → ${expected ?? 'nothing'}`, () => assert.equal(suggestName(word, KNOWN_PARAMS), expected));
});

describe('duplicate JSON keys', () => {
  it('finds the first repeat with the path of its object', () => {
    assert.deepEqual(findDuplicateKey('{"a":{"b":[1,{"c":1,"d":2,"c":3}]}}'), { path: ['a', 'b', 1], key: 'c' });
    assert.deepEqual(findDuplicateKey('{"a":1,"b":{"a":2}}'), undefined);
    assert.deepEqual(findDuplicateKey('{"k\\"":1,"k\\u0022":2}'), { path: [], key: 'k"' }, 'keys compare after unescaping');
    assert.deepEqual(findDuplicateKey('{"s":"{\\"x\\":1,\\"x\\":2}"}'), undefined, 'JSON inside a string is text');
  });

  it('walks 100,000-deep nesting without exhausting the stack', () => {
    const deep = '['.repeat(100_000) + '{"a":1,"a":2}' + ']'.repeat(100_000);
    assert.equal(findDuplicateKey(deep)?.key, 'a');
    assert.equal(findDuplicateKey(deep)?.path.length, 100_000);
  });
});

describe('image data', () => {
  it('says why data is not base64, and which image the bytes are', () => {
    assert.equal(base64Problem(PNG_1X1), undefined);
    assert.match(base64Problem('abc') ?? '', /multiple of 4/);
    assert.match(base64Problem('ab=c') ?? '', /padding/);
    assert.equal(imageTypeOf(PNG_1X1), 'image/png');
    assert.equal(imageTypeOf('/9j/4AAQSkZJRg=='), 'image/jpeg');
    assert.equal(imageTypeOf('R0lGODlhAQABAAAAACw='), 'image/gif');
    assert.equal(imageTypeOf('UklGRiQAAABXRUJQVlA4IBgAAAAw'), 'image/webp');
    assert.equal(imageTypeOf('aGVsbG8gd29ybGQ='), undefined, 'unknown bytes: left to the API');
  });
});

describe('the model catalog', () => {
  it('reads ModelInfo objects as the SDK gives them', () => {
    const catalog = catalogFromModelInfos([
      {
        id: 'claude-x-1',
        lifecycle: 'deprecated',
        max_tokens: 1000,
        retires_at: '2027-01-01T00:00:00Z',
        capabilities: { batch: { supported: true }, thinking: { types: { enabled: { supported: false } } } },
      },
      { id: 'claude-y-1', capabilities: null },
    ]);
    assert.deepEqual(catalog, {
      source: 'account',
      models: [
        { id: 'claude-x-1', lifecycle: 'deprecated', maxTokens: 1000, retiresAt: '2027-01-01T00:00:00Z', manualThinking: false, batch: true },
        { id: 'claude-y-1', lifecycle: 'active', maxTokens: null, retiresAt: null, manualThinking: null, batch: null },
      ],
    });
  });

  it('finds models by id, by a dated name of an undated id, and by the alias of a dated id', () => {
    assert.equal(findModel('claude-haiku-4-5-20251001', LINEUP_CATALOG)?.id, 'claude-haiku-4-5');
    assert.equal(findModel('claude-sonnet-4-5@20250929', LINEUP_CATALOG)?.id, 'claude-sonnet-4-5');
    const dated = catalogFromModelInfos([{ id: 'claude-haiku-4-5-20251001', max_tokens: 64_000 }]);
    assert.equal(findModel('claude-haiku-4-5', dated)?.id, 'claude-haiku-4-5-20251001');
    assert.equal(findModel('claude-haiku-4', dated), undefined);
  });

  it('knows the generation of a model from its id', () => {
    assert.equal(modelGeneration('claude-sonnet-5-5'), 5);
    assert.equal(modelGeneration('claude-sonnet-5'), 5);
    assert.equal(modelGeneration('claude-haiku-4-5-20251001'), 4);
    assert.equal(modelGeneration('claude-mythos-preview'), 5);
    assert.equal(fixedSampling('claude-opus-4-8'), false);
    assert.equal(fixedSampling('claude-fable-5-1'), true);
  });
});

describe('per-model rules', () => {
  const account = { ...LINEUP_CATALOG, source: 'account' as const };
  const params = (extra: Record<string, unknown>) => ({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: hi, ...extra });

  it('let through what each model accepts', () => {
    assert.deepEqual(modelIssues(params({ temperature: 1 }), account), []);
    assert.deepEqual(modelIssues(params({ thinking: { type: 'adaptive' }, max_tokens: 128_000 }), account), []);
    assert.deepEqual(modelIssues(params({ model: 'claude-haiku-4-5', temperature: 0.3, top_k: 5, top_p: 0.5 }), account), []);
    assert.deepEqual(modelIssues(params({ model: 'claude-opus-4-8', thinking: { type: 'enabled', budget_tokens: 2000 }, max_tokens: 4000 }), account), []);
  });

  it('without the account\'s list, an unknown model is let through (the lineup may be older than the account)', () => {
    assert.deepEqual(modelIssues(params({ model: 'claude-opus-6' }), LINEUP_CATALOG), []);
    assert.equal(modelIssues(params({ model: 'claude-opus-6' }), account).length, 1);
  });

  it('a retired model is refused alone: no further rules are piled on it', () => {
    assert.deepEqual(modelIssues(params({ model: 'claude-sonnet-4-5', max_tokens: 999_999 }), account), [
      { path: ['model'], reason: '"claude-sonnet-4-5" reached its end of life on 2026-11-30 and is retired: requests naming it fail' },
    ]);
  });

  it('per-model rules only run on requests whose shape is valid: one problem is not reported twice', () => {
    const r = validateInputLine(JSON.stringify({ params: params({ temperature: 3 }) }), 1, {}, { maxRequestBytes: 1e6 });
    assert.deepEqual(r, { ok: false, errors: [{ line: 1, field: 'params.temperature', reason: 'must be a number from 0 to 1 (got 3)' }] });
  });
});
