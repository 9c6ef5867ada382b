// The shared Temporal environment closes its connection only after the workers a test file started have stopped,
// even when the file stops them in a root `after` hook that node runs after the environment's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

test('a worker stopped in the file\'s own after hook stops before the connection closes', { timeout: 180_000 }, () => {
  const fixture = path.join(__dirname, 'fixtures', 'worker-stopped-in-after.ts');
  // A run of its own, not a subtest of this one: without the runner's marker in the environment.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', fixture], { encoding: 'utf8', env });
  const output = `${run.stdout}\n${run.stderr}`;
  assert.doesNotMatch(output, /Cannot close connection while Workers hold a reference/);
  assert.match(output, /worker stopped/);
  assert.match(output, /# pass 1/);
  assert.equal(run.status, 0, output);
});
