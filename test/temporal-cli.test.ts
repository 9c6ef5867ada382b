// How Sluice finds its Temporal server binary. The Go compiler is replaced by a script that records its calls
// (a real build takes minutes and is exercised by CI's first step); everything else is the real code path.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cachedCliPath, findTemporalCli } from '../src/dev/temporal-cli';

async function fakeGoToolchain(dir: string): Promise<{ env: NodeJS.ProcessEnv; calls: () => Promise<string[]> }> {
  const log = path.join(dir, 'go-calls.log');
  const bin = path.join(dir, 'bin');
  await writeFile(log, '');
  await mkdir(bin);
  // Takes a while, like a real build, so concurrent callers overlap.
  await writeFile(
    path.join(bin, 'go'),
    `#!/bin/sh\necho "$* CGO_ENABLED=$CGO_ENABLED GOTOOLCHAIN=$GOTOOLCHAIN" >> ${log}\nsleep 1\nmkdir -p "$GOBIN"\nprintf '#!/bin/sh\\necho fake\\n' > "$GOBIN/temporal"\nchmod +x "$GOBIN/temporal"\n`,
  );
  await chmod(path.join(bin, 'go'), 0o755);
  return {
    env: { PATH: `${bin}:/usr/bin:/bin`, SLUICE_CACHE_DIR: path.join(dir, 'cache') },
    calls: async () => (await readFile(log, 'utf8')).split('\n').filter(Boolean),
  };
}

test('concurrent callers build the CLI once, with the pinned version and no cgo, into the cache', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cli-'));
  const go = await fakeGoToolchain(dir);
  const results = await Promise.all([1, 2, 3].map(() => findTemporalCli({ env: go.env })));
  const calls = await go.calls();
  assert.equal(calls.length, 1, `go ran ${calls.length} times: ${calls.join(' | ')}`);
  assert.match(calls[0]!, /^install github\.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1 CGO_ENABLED=0 GOTOOLCHAIN=local$/);
  for (const r of results) assert.deepEqual(r.kind === 'path' && r.path, cachedCliPath(go.env));

  const again = await findTemporalCli({ env: go.env });
  assert.deepEqual(again, { kind: 'path', path: cachedCliPath(go.env), source: 'cache' });
  assert.equal((await go.calls()).length, 1, 'a cached binary is reused');
});

test('TEMPORAL_CLI wins, and a bad value is a clear error', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cli-'));
  const go = await fakeGoToolchain(dir);
  const own = path.join(dir, 'my-temporal');
  await writeFile(own, '#!/bin/sh\n');
  await chmod(own, 0o755);
  assert.deepEqual(await findTemporalCli({ env: { ...go.env, TEMPORAL_CLI: own } }), {
    kind: 'path',
    path: own,
    source: 'env',
  });
  await assert.rejects(findTemporalCli({ env: { ...go.env, TEMPORAL_CLI: path.join(dir, 'nope') } }), /TEMPORAL_CLI=.*nope is not an executable/);
  assert.equal((await go.calls()).length, 0);
});

test('with no binary and no Go, the SDK download is the fallback', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cli-'));
  assert.deepEqual(await findTemporalCli({ env: { PATH: dir, SLUICE_CACHE_DIR: dir } }), { kind: 'sdk-download' });
});
