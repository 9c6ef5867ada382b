// An audit's snapshot of its input: files, directories and globs, bad lines skipped, taken once. No server.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { matchInputFiles, snapshotInput } from '../src/client/snapshot-input';
import { ConfigError } from '../src/domain/errors';
import { jobKeys, type NormalizedRequest } from '../src/domain/job';
import { LocalDirectoryStore } from '../src/store/local-store';

const line = (id?: string) => JSON.stringify({ ...(id ? { custom_id: id } : {}), params: { messages: [{ role: 'user', content: 'x' }] } });

async function tree(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sluice-snap-'));
  await mkdir(path.join(root, '2026', '03'), { recursive: true });
  await writeFile(path.join(root, 'b.jsonl'), [line('b-1'), '', 'not json', line()].join('\n') + '\n');
  await writeFile(path.join(root, 'a.jsonl'), [line('a-1'), line('b-1')].join('\n'));
  await writeFile(path.join(root, '2026', '03', 'c.jsonl'), line('c-1') + '\n');
  await writeFile(path.join(root, 'readme.txt'), 'no');
  return root;
}

async function lines<T>(store: LocalDirectoryStore, key: string): Promise<T[]> {
  const out: T[] = [];
  for await (const text of store.readLines(key)) out.push(JSON.parse(text) as T);
  return out;
}

describe('audit input snapshot', () => {
  test('a file, a directory (its .jsonl files), a glob across directories; nothing is a ConfigError', async () => {
    const root = await tree();
    assert.deepEqual(await matchInputFiles(path.join(root, 'a.jsonl')), [path.join(root, 'a.jsonl')]);
    assert.deepEqual(await matchInputFiles(root), [path.join(root, 'a.jsonl'), path.join(root, 'b.jsonl')]);
    assert.deepEqual(await matchInputFiles(path.join(root, '**', '*.jsonl')), [
      path.join(root, '2026', '03', 'c.jsonl'),
      path.join(root, 'a.jsonl'),
      path.join(root, 'b.jsonl'),
    ]);
    await assert.rejects(matchInputFiles(path.join(root, 'none', '*.jsonl')), (e: unknown) => e instanceof ConfigError && /nothing matches/.test(e.message));
    await assert.rejects(matchInputFiles(path.join(root, 'missing.jsonl')), ConfigError);
    await assert.rejects(matchInputFiles(path.join(root, '2026')), /no \.jsonl files/);
  });

  test('bad lines go to rejects with file and line; request lines count across files; taken once', async () => {
    const root = await tree();
    const store = new LocalDirectoryStore(await mkdtemp(path.join(os.tmpdir(), 'sluice-snap-store-')));
    const snap = await snapshotInput({ input: root, jobId: 'j1', store, defaults: { model: 'claude-haiku-4-5', max_tokens: 16 } });
    assert.equal(snap.requestCount, 3);
    assert.equal(snap.rejected, 2);
    assert.deepEqual(snap.files.map((f) => [path.basename(f.path), f.firstLine, f.lines]), [['a.jsonl', 1, 2], ['b.jsonl', 3, 4]]);
    const requests = await lines<NormalizedRequest>(store, jobKeys.input('j1'));
    assert.deepEqual(requests.map((r) => [r.custom_id, r.line]), [['a-1', 1], ['b-1', 2], ['req-0000004', 6]]);
    assert.equal(requests[0]!.params.model, 'claude-haiku-4-5', 'defaults merged');
    const rejects = await lines<{ file: string; line: number }>(store, jobKeys.rejects('j1'));
    assert.deepEqual(rejects.map((r) => [path.basename(r.file), r.line]), [['b.jsonl', 1], ['b.jsonl', 3]], 'a duplicate custom_id, then bad JSON');

    // A retried snapshot returns the first one, whatever the files say by then.
    await writeFile(path.join(root, 'a.jsonl'), line('changed') + '\n');
    assert.deepEqual(await snapshotInput({ input: root, jobId: 'j1', store }), snap);
  });
});
