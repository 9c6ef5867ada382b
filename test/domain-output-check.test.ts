// Output checks and the canary rule as pure functions: JSON with and without a fence, schema verdicts that never
// quote the answer, schemas refused at the edge with the file and the JSON pointer, and the canary's threshold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canaryFailuresAllowed, canaryStops } from '../src/domain/canary';
import { acceptsNothing, checkOutput, parseAnswer, unfence } from '../src/domain/output-check';
import { compileSchema, parseSchemaText } from '../src/domain/output-schema';
import { initialCanary, canaryVerdict, optionsWhileCanary } from '../src/workflows/job-canary';
import { initialJobState } from '../src/workflows/job-state';
import { JobOptionsSchema } from '../src/domain/job';

const msg = (text: string) => ({ content: [{ type: 'text', text }] });

test('an answer must parse as JSON; one fence around the whole answer is tolerated, prose around it is not', () => {
  assert.deepEqual(checkOutput(msg('{"a":1}'), undefined), { ok: true });
  assert.deepEqual(checkOutput(msg('```json\n{"a":1}\n```\n'), undefined), { ok: true });
  assert.deepEqual(checkOutput(msg('```\n[1,2]\n```'), undefined), { ok: true });
  assert.equal(unfence('Here it is:\n```json\n{}\n```'), 'Here it is:\n```json\n{}\n```');
  const prose = checkOutput(msg('Sure! The secret answer is 42'), undefined);
  assert.equal(prose.ok, false);
  assert.ok(!prose.ok && prose.code === 'not_json');
  assert.ok(!prose.ok && !prose.message.includes('secret'), 'the message never quotes the answer');
  assert.deepEqual(checkOutput({ content: [] }, undefined), { ok: false, code: 'no_text', message: 'the answer has no text block' });
  assert.equal(parseAnswer('   ').ok, false);
});

test('a schema verdict names the pointer and the rule, not the value', () => {
  const schema = compileSchema({ type: 'object', required: ['label'], properties: { label: { enum: ['a', 'b'] } } }, 'x.json');
  assert.deepEqual(checkOutput(msg('{"label":"a"}'), schema), { ok: true });
  const v = checkOutput(msg('{"label":"top-secret"}'), schema);
  assert.ok(!v.ok && v.code === 'schema_mismatch');
  assert.ok(!v.ok && v.message.includes('/label: must be equal to one of the allowed values'));
  assert.ok(!v.ok && !v.message.includes('top-secret'));
  const missing = checkOutput(msg('{}'), schema);
  assert.ok(!missing.ok && missing.message.includes("(the answer): must have required property 'label'"));
  // {"type": "string"} accepts JSON strings: it agrees with --expect json.
  assert.deepEqual(checkOutput(msg('"hello"'), compileSchema({ type: 'string' }, 'x.json')), { ok: true });
});

test('bad schemas are refused with the file and the JSON pointer', () => {
  assert.throws(() => parseSchemaText('{"type": }', '--schema s.json'), /--schema s\.json: is not JSON/);
  assert.throws(() => compileSchema({ properties: { a: { type: 'strin' } } }, '--schema s.json'), /--schema s\.json: is not valid JSON Schema: \/properties\/a\/type: must be equal to one of the allowed values/);
  assert.throws(() => compileSchema({ properties: { a: { requird: true } } }, '--schema s.json'), /--schema s\.json: .*\/properties\/a\/requird: unknown keyword: "requird"/);
  assert.throws(() => compileSchema([1], '--schema s.json'), /a JSON Schema is an object or a boolean/);
  assert.throws(() => compileSchema({ $schema: 'http://json-schema.org/draft-03/schema#' }, '--schema s.json'), /\/\$schema: .* not a draft/);
  assert.throws(() => compileSchema(false, '--schema s.json'), /disagrees with --expect json/);
  assert.throws(() => compileSchema({ not: {} }, '--schema s.json'), /disagrees with --expect json/);
  assert.equal(acceptsNothing({ type: 'string' }), undefined);
  assert.doesNotThrow(() => compileSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { at: { format: 'date-time' } } }, 's.json'));
});

test('the canary stops only when MORE than the allowed share failed', () => {
  assert.equal(canaryFailuresAllowed(20, 10), 2);
  assert.equal(canaryStops(2, 20, 10), false);
  assert.equal(canaryStops(3, 20, 10), true);
  assert.equal(canaryStops(1, 20, 0), true, '0 %: any failure stops the job');
  assert.equal(canaryStops(0, 20, 0), false);
  assert.equal(canaryStops(20, 20, 100), false, '100 %: never stops');
  assert.equal(canaryFailuresAllowed(30, 10), 3, 'no float rounding below the line');
});

test('while the canary runs only its shard may go out; a synchronous canary is judged from the counts', () => {
  const opts = JobOptionsSchema.parse({ canary: { requests: 20 } });
  const s = initialJobState(0, 120, 5);
  s.phase = 'running';
  s.shardSizes = [20, 100];
  s.canary = initialCanary(opts.canary!);
  assert.equal(optionsWhileCanary(s, opts).maxBatchesInFlight, 1, 'room for the canary alone');
  s.nextShard = 1;
  s.inFlight = [{ batchId: 'b', shardKey: 's000000', requests: 20, submittedAtMs: 0 }];
  assert.equal(optionsWhileCanary(s, opts).maxBatchesInFlight, 1, 'no room beside it');
  assert.equal(canaryVerdict(s), undefined, 'still running');
  s.inFlight = [];
  s.succeeded = 17;
  s.failed = 3;
  assert.equal(canaryVerdict(s)?.state, 'stopped');
  s.failed = 2;
  s.succeeded = 18;
  assert.equal(canaryVerdict(s)?.state, 'passed');
  s.canary = { ...s.canary, state: 'passed' };
  assert.equal(optionsWhileCanary(s, opts), opts, 'after the canary, the job\'s own limits');
});
