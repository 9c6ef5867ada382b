import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, InputError, SluiceError, parseConfig } from '../src/domain/errors';
import { formatInteger, formatPath } from '../src/domain/format';

describe('InputError', () => {
  const issues = [
    { line: 4, field: 'params.model', reason: 'is required' },
    { line: 4, field: 'params.max_tokens', reason: 'must be an integer ≥ 1 (got 0)' },
    { line: 9, reason: 'is not valid JSON: Unexpected end of JSON input' },
  ];

  it('lists issues as file:line: field: reason', () => {
    const err = new InputError(issues, { file: 'jobs/input.jsonl' });
    assert.equal(
      err.message,
      [
        'jobs/input.jsonl: 2 bad lines (3 issues)',
        '  jobs/input.jsonl:4: params.model: is required',
        '  jobs/input.jsonl:4: params.max_tokens: must be an integer ≥ 1 (got 0)',
        '  jobs/input.jsonl:9: is not valid JSON: Unexpected end of JSON input',
      ].join('\n'),
    );
    assert.equal(err.name, 'InputError');
    assert.ok(err instanceof SluiceError && err instanceof Error);
    assert.equal(err.issues.length, 3);
  });

  it('lists only the first N, then says how many more', () => {
    const err = new InputError(issues, { listed: 1 });
    assert.equal(err.message, 'input: 2 bad lines (3 issues)\n  line 4: params.model: is required\n  ... and 2 more');
  });
});

describe('ConfigError', () => {
  it('carries field, reason and cause', () => {
    const cause = new Error('root');
    const err = new ConfigError('sla', 'is too short', { cause });
    assert.equal(err.message, 'sla: is too short');
    assert.equal(err.name, 'ConfigError');
    assert.equal(err.field, 'sla');
    assert.equal(err.cause, cause);
  });

  it('parseConfig names the failing field', () => {
    const schema = z.object({ limits: z.array(z.number({ error: 'must be a number' })) });
    assert.throws(
      () => parseConfig(schema, { limits: [1, 'x'] }, 'worker'),
      (err: unknown) =>
        err instanceof ConfigError && err.field === 'worker.limits[1]' && err.reason === 'must be a number',
    );
  });
});

describe('format helpers', () => {
  const numbers: [number, string][] = [
    [0, '0'],
    [999, '999'],
    [262_144, '262,144'],
    [-1_234_567, '-1,234,567'],
    [1_234.5, '1,234.5'],
  ];
  for (const [n, text] of numbers) it(`${n} → ${text}`, () => assert.equal(formatInteger(n), text));
  it('paths', () => assert.equal(formatPath(['params', 'messages', 0, 'role']), 'params.messages[0].role'));
});
