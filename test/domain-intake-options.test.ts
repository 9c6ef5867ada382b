// Intake options are checked when the intake is created, job options included: a bad one names its field and
// never reaches the workflow (where it would fail the first cut on every retry).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../src/domain/errors';
import { IntakeOptionsSchema } from '../src/domain/intake';

test('a bad job option is refused at creation, naming job.<field>', () => {
  assert.throws(
    () => parseConfig(IntakeOptionsSchema, { job: { maxAttempts: 0, poll: { initialMs: 100, capMs: 50 } } }, 'intake'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /job\.maxAttempts/);
      assert.match(err.message, /job\.poll\.capMs/);
      return true;
    },
  );
  assert.throws(() => parseConfig(IntakeOptionsSchema, { job: { noSuchOption: true } }, 'intake'), /noSuchOption/);
});

test('good job options pass unchanged; batchSize and sla are the intake’s own', () => {
  const o = parseConfig(
    IntakeOptionsSchema,
    { batchSize: 5, job: { maxAttempts: 2, poll: { initialMs: 100, capMs: 400 }, sla: { bogus: 1 } } },
    'intake',
  );
  assert.deepEqual(o.job, { maxAttempts: 2, poll: { initialMs: 100, capMs: 400 }, sla: { bogus: 1 } });
  assert.equal(o.batchSize, 5);
});
