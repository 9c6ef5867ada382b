// docs/package.md shows the example project's files as they are: the ones test/package.test.ts installs and runs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..');

test('every file shown in docs/package.md is the example file of that name, byte for byte', () => {
  const doc = readFileSync(path.join(root, 'docs', 'package.md'), 'utf8');
  const shown = [...doc.matchAll(/`(examples\/plugin\/[^`]+)`:\n\n```ts\n([\s\S]*?)```/g)];
  assert.deepEqual(shown.map((m) => m[1]).sort(), [
    'examples/plugin/src/activities.ts',
    'examples/plugin/src/run-job.ts',
    'examples/plugin/src/start-digest.ts',
    'examples/plugin/src/worker.ts',
    'examples/plugin/src/workflows.ts',
  ]);
  for (const [, file, code] of shown) assert.equal(code, readFileSync(path.join(root, file!), 'utf8'), `${file} differs from docs/package.md`);
});
