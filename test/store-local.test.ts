// The local directory store against the shared BlobStore contract (the same tests run for PostgreSQL).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LocalDirectoryStore } from '../src/store/local-store';
import { SYNC_IO_BYTES } from '../src/store/small-files';
import { storeContract } from './helpers/store-contract';

storeContract('LocalDirectoryStore', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-store-contract-'));
  return { store: new LocalDirectoryStore(dir), close: () => rm(dir, { recursive: true, force: true }) };
});

test('a directory removed behind the store (another process, an operator) is made again on the next write', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-store-dirs-'));
  try {
    const store = new LocalDirectoryStore(dir);
    await store.writeJson('jobs/j1/submissions/s000000.json', { n: 1 });
    await rm(path.join(dir, 'jobs'), { recursive: true, force: true });
    await store.writeJson('jobs/j1/submissions/s000001.json', { n: 2 });
    await rm(path.join(dir, 'jobs'), { recursive: true, force: true });
    assert.equal(await store.createJsonExclusive('jobs/j1/submissions/s000002.json', { n: 3 }), true);
    assert.deepEqual(await store.readJson('jobs/j1/submissions/s000002.json'), { n: 3 });
    await rm(path.join(dir, 'jobs'), { recursive: true, force: true });
    await store.writeLines('jobs/j1/submissions/lines.jsonl', ['a', 'b']);
    const lines: string[] = [];
    for await (const line of store.readLines('jobs/j1/submissions/lines.jsonl')) lines.push(line);
    assert.deepEqual(lines, ['a', 'b']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a process killed while it creates a blob exclusively leaves no empty blob behind (chaos seed 19)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-store-exclusive-'));
  try {
    // SIGKILL at the moment the value is serialized: before, the key's file was already created (empty) by then.
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const { LocalDirectoryStore } = require(${JSON.stringify(path.resolve('src/store/local-store.ts'))});
         void new LocalDirectoryStore(${JSON.stringify(dir)}).createJsonExclusive('jobs/j1/claim.json', { toJSON() { process.kill(process.pid, 'SIGKILL'); } });`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(child.signal, 'SIGKILL', `the writer was killed midway (${child.stderr})`);
    const store = new LocalDirectoryStore(dir);
    assert.equal(await store.readJson('jobs/j1/claim.json'), undefined, 'nothing under the key: no empty blob to fail every read');
    assert.equal(await store.createJsonExclusive('jobs/j1/claim.json', { n: 1 }), true, 'the next create takes the key');
    assert.deepEqual(await store.readJson('jobs/j1/claim.json'), { n: 1 });
    assert.deepEqual(await store.list('jobs/j1/'), ['jobs/j1/claim.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('blobs just under, at and over the size written and read in one piece round-trip whole', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-store-sizes-'));
  try {
    const store = new LocalDirectoryStore(dir);
    for (const bytes of [SYNC_IO_BYTES - 100, SYNC_IO_BYTES, SYNC_IO_BYTES + 100, 3 * SYNC_IO_BYTES]) {
      const value = { pad: 'x'.repeat(bytes) };
      await store.writeJson(`j/${bytes}.json`, value);
      assert.deepEqual(await store.readJson(`j/${bytes}.json`), value, `writeJson of ${bytes} bytes`);
      assert.equal(await store.createJsonExclusive(`c/${bytes}.json`, value), true);
      assert.equal(await store.createJsonExclusive(`c/${bytes}.json`, { other: true }), false, `a second create of ${bytes} bytes is refused`);
      assert.deepEqual(await store.readJson(`c/${bytes}.json`), value);
      // Lines that cross the size midway: the first ones held, the rest streamed after them, in order.
      const lines = Array.from({ length: 8 }, (_, i) => `${i}:${'y'.repeat(bytes / 4)}`);
      assert.deepEqual(await store.writeLines(`l/${bytes}.jsonl`, lines), { lines: 8, bytes: lines.reduce((n, l) => n + l.length + 1, 0) });
      const back: string[] = [];
      for await (const line of store.readLines(`l/${bytes}.jsonl`)) back.push(line);
      assert.deepEqual(back, lines, `writeLines of ${bytes * 2} bytes`);
    }
    for (const sub of ['c', 'j', 'l']) assert.deepEqual((await readdir(path.join(dir, sub))).filter((f) => f.startsWith('.tmp-')), [], `no temporary file left in ${sub}/`);
    assert.equal(await store.readJson('j/missing.json'), undefined);
    assert.equal(await store.exists('j/missing.json'), false);
    await assert.rejects(async () => {
      for await (const _ of store.readLines('l/missing.jsonl')) break;
    }, /Nothing is stored at l\/missing.jsonl/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a write that fails leaves no temporary file and the old blob whole', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-store-failed-write-'));
  try {
    const store = new LocalDirectoryStore(dir);
    await store.writeLines('o/s000001/b1.jsonl', ['old']);
    // The target is a directory: the rename into place fails after the bytes were written to the temporary file.
    await store.writeLines('o/s000001/b2.jsonl/x.jsonl', ['in the way']);
    await assert.rejects(store.writeLines('o/s000001/b2.jsonl', ['a', 'b']));
    await assert.rejects(store.writeJson('o/s000001/b2.jsonl', { a: 1 }));
    assert.deepEqual(await readdir(path.join(dir, 'o', 's000001')), ['b1.jsonl', 'b2.jsonl'], 'no temporary file left');
    const back: string[] = [];
    for await (const line of store.readLines('o/s000001/b1.jsonl')) back.push(line);
    assert.deepEqual(back, ['old']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
