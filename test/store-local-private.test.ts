// The local store holds prompts and results: its files and directories are private to their user (0600/0700),
// even under a permissive umask.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { LocalDirectoryStore } from '../src/store/local-store';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

test('every blob is 0600 and every directory 0700, whatever the umask', async () => {
  const parent = await mkdtemp(path.join(tmpdir(), 'sluice-private-'));
  roots.push(parent);
  const root = path.join(parent, 'store');
  const store = new LocalDirectoryStore(root);
  const old = process.umask(0);
  try {
    await store.writeLines('jobs/j1/input.jsonl', ['{"custom_id":"a"}']);
    await store.writeJson('jobs/j1/plan.json', { requestCount: 1 });
    assert.equal(await store.createJsonExclusive('batches/msgbatch_1.json', { jobId: 'j1' }), true);
  } finally {
    process.umask(old);
  }
  const mode = async (p: string) => (await stat(path.join(root, p))).mode & 0o777;
  assert.equal(await mode('.'), 0o700);
  for (const dir of ['jobs', 'jobs/j1', 'batches']) assert.equal(await mode(dir), 0o700, dir);
  for (const file of ['jobs/j1/input.jsonl', 'jobs/j1/plan.json', 'batches/msgbatch_1.json']) assert.equal(await mode(file), 0o600, file);
});
