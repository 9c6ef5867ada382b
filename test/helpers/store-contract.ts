/**
 * What every BlobStore must do, run against each implementation (test/store-local.test.ts,
 * test/store-postgres.test.ts), so the local directory and PostgreSQL behave the same for the activities.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { allLines, BlobNotFoundError, lineRuns, type BlobStore } from '../../src/store/blob-store';

export interface StoreUnderTest {
  store: BlobStore;
  /** Releases what the store holds (connections, directories). */
  close(): Promise<void>;
}

async function collect<T>(lines: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

async function* generate(count: number, line: (i: number) => string): AsyncIterable<string> {
  for (let i = 0; i < count; i++) {
    if (i % 1_000 === 0) await new Promise((resolve) => setImmediate(resolve));
    yield line(i);
  }
}

export function storeContract(name: string, open: () => Promise<StoreUnderTest>) {
  describe(`${name}: the BlobStore contract`, () => {
    let subject: StoreUnderTest;
    let store: BlobStore;
    // Each run works under its own prefix, so a shared database never mixes runs.
    const root = `contract-${randomUUID().slice(0, 8)}`;
    before(async () => {
      subject = await open();
      store = subject.store;
    });
    after(() => subject.close());

    test('writes lines and streams them back in order, from an iterable or an async iterable', async () => {
      const lines = ['{"a":1}', 'plain text', 'unicode: žluťoučký kůň 🐴', JSON.stringify({ nested: { x: [1, 2, 3] } })];
      const written = await store.writeLines(`${root}/small.jsonl`, lines);
      assert.deepEqual(written, { lines: 4, bytes: lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0) });
      assert.deepEqual(await collect(store.readLines(`${root}/small.jsonl`)), lines);

      // Enough bytes to span many storage chunks, lines of very different sizes.
      const big = (i: number) => JSON.stringify({ i, pad: 'x'.repeat((i * 7919) % 5_000) });
      const count = 3_000;
      const result = await store.writeLines(`${root}/big.jsonl`, generate(count, big));
      assert.equal(result.lines, count);
      let i = 0;
      for await (const line of store.readLines(`${root}/big.jsonl`)) {
        assert.equal(line, big(i), `line ${i}`);
        i++;
      }
      assert.equal(i, count);
    });

    test('an empty blob exists and has no lines', async () => {
      assert.deepEqual(await store.writeLines(`${root}/empty.jsonl`, []), { lines: 0, bytes: 0 });
      assert.equal(await store.exists(`${root}/empty.jsonl`), true);
      assert.deepEqual(await collect(store.readLines(`${root}/empty.jsonl`)), []);
    });

    test('a write replaces the whole blob; a failed write leaves the old one intact', async () => {
      const key = `${root}/replace.jsonl`;
      await store.writeLines(key, ['a1', 'a2', 'a3']);
      await store.writeLines(key, ['b1', 'b2']);
      assert.deepEqual(await collect(store.readLines(key)), ['b1', 'b2']);

      function* failing(): Iterable<string> {
        yield 'c1';
        yield 'c2'.repeat(300_000); // past a storage chunk, so part of it may already be stored
        throw new Error('the producer failed');
      }
      await assert.rejects(store.writeLines(key, failing()), /the producer failed/);
      assert.deepEqual(await collect(store.readLines(key)), ['b1', 'b2'], 'the old content, whole');

      // Writing the same content again (an activity that runs twice) gives the same blob.
      await store.writeLines(key, ['b1', 'b2']);
      assert.deepEqual(await collect(store.readLines(key)), ['b1', 'b2']);
    });

    test('a reader that started before a rewrite reads the old blob whole', async () => {
      const key = `${root}/snapshot.jsonl`;
      const old = Array.from({ length: 2_000 }, (_, i) => `old-${i}-${'o'.repeat(1_000)}`);
      await store.writeLines(key, old);
      const reader = store.readLines(key)[Symbol.asyncIterator]();
      const first = await reader.next();
      assert.equal(first.value, old[0]);
      await store.writeLines(key, ['new-0', 'new-1']);
      const rest: string[] = [];
      for (let r = await reader.next(); !r.done; r = await reader.next()) rest.push(r.value);
      assert.deepEqual([first.value, ...rest], old);
      assert.deepEqual(await collect(store.readLines(key)), ['new-0', 'new-1']);
    });

    test('a reader that stops early can be followed by other reads and writes', async () => {
      const key = `${root}/early.jsonl`;
      await store.writeLines(key, Array.from({ length: 5_000 }, (_, i) => `line-${i}-${'e'.repeat(500)}`));
      for (let round = 0; round < 12; round++) {
        for await (const line of store.readLines(key)) {
          assert.match(line, /^line-0-/);
          break;
        }
      }
      await store.writeJson(`${root}/after-early.json`, { ok: true });
      assert.deepEqual(await store.readJson(`${root}/after-early.json`), { ok: true });
    });

    test('readJson: the value written, or undefined when missing', async () => {
      assert.equal(await store.readJson(`${root}/missing.json`), undefined);
      const value = { jobId: 'j-1', n: 3, nested: { list: ['a', 'b'] }, text: 'line\nbreak' };
      await store.writeJson(`${root}/value.json`, value);
      assert.deepEqual(await store.readJson(`${root}/value.json`), value);
      await store.writeJson(`${root}/value.json`, { replaced: true });
      assert.deepEqual(await store.readJson(`${root}/value.json`), { replaced: true });
    });

    test('createJsonExclusive creates once; later calls change nothing', async () => {
      const key = `${root}/batches/msgbatch_1.json`;
      assert.equal(await store.createJsonExclusive(key, { jobId: 'first' }), true);
      assert.equal(await store.createJsonExclusive(key, { jobId: 'second' }), false);
      assert.deepEqual(await store.readJson(key), { jobId: 'first' });
      assert.equal(await store.exists(key), true);

      const raced = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.createJsonExclusive(`${root}/batches/msgbatch_2.json`, { i })),
      );
      assert.equal(raced.filter(Boolean).length, 1, 'exactly one of eight concurrent claims wins');
    });

    test('list: keys under a prefix, nested ones included, sorted', async () => {
      const base = `${root}/list`;
      const keys = [`${base}/jobs/a/z.json`, `${base}/jobs/a/b/c.jsonl`, `${base}/jobs/a/a.jsonl`, `${base}/jobs/ab/x.json`];
      // LIKE wildcards in a prefix are plain characters.
      keys.push(`${base}/jobs/a_b/1.json`, `${base}/jobs/axb/2.json`, `${base}/jobs/a%/3.json`);
      for (const key of keys) await store.writeJson(key, { key });
      assert.deepEqual(await store.list(`${base}/jobs/a/`), [
        `${base}/jobs/a/a.jsonl`,
        `${base}/jobs/a/b/c.jsonl`,
        `${base}/jobs/a/z.json`,
      ]);
      assert.deepEqual(await store.list(`${base}/jobs/a`), await store.list(`${base}/jobs/a/`), 'the slash is implied');
      assert.deepEqual(await store.list(`${base}/jobs/a_b/`), [`${base}/jobs/a_b/1.json`]);
      assert.deepEqual(await store.list(`${base}/jobs/a%/`), [`${base}/jobs/a%/3.json`]);
      assert.deepEqual(await store.list(`${base}/nothing/`), []);
      const all = await store.list(`${base}/`);
      assert.deepEqual(all, [...keys].sort());
    });

    test('delete removes a blob (and what is under it); reading it then fails with BlobNotFoundError', async () => {
      const key = `${root}/gone.jsonl`;
      await store.writeLines(key, ['x']);
      await store.delete(key);
      assert.equal(await store.exists(key), false);
      assert.equal(await store.readJson(key), undefined);
      await assert.rejects(collect(store.readLines(key)), (err: unknown) => {
        assert.ok(err instanceof BlobNotFoundError);
        assert.equal(err.key, key);
        return true;
      });
      await store.delete(key); // deleting what is not there is fine

      await store.writeJson(`${root}/tree/a.json`, 1);
      await store.writeJson(`${root}/tree/sub/b.json`, 2);
      await store.writeJson(`${root}/treetop.json`, 3);
      await store.delete(`${root}/tree`);
      assert.deepEqual(await store.list(`${root}/tree/`), []);
      assert.equal(await store.exists(`${root}/treetop.json`), true, 'a sibling with a longer name stays');
    });

    test('allLines gives the lines readLines streams, in one array; a missing blob fails the same way', async () => {
      // Non-ASCII text: the byte count is of the UTF-8 written, and a blob whose characters fit the one-piece size
      // may encode to more bytes than it.
      const lines = ['é'.repeat(200_000), 'plain', '{"a":"ü"}'];
      assert.deepEqual(await store.writeLines(`${root}/all/a.jsonl`, lines), { lines: 3, bytes: Buffer.byteLength(`${lines.join('\n')}\n`) });
      assert.deepEqual(await allLines(store, `${root}/all/a.jsonl`), lines);
      assert.deepEqual(await allLines(store, `${root}/all/a.jsonl`), await collect(store.readLines(`${root}/all/a.jsonl`)));
      await store.writeLines(`${root}/all/empty.jsonl`, []);
      assert.deepEqual(await allLines(store, `${root}/all/empty.jsonl`), []);
      await assert.rejects(allLines(store, `${root}/all/missing.jsonl`), BlobNotFoundError);
    });

    test('lineRuns gives the lines readLines streams, in order, for a blob read in many pieces', async () => {
      // Over the one-piece size: lines that cross a 1 MiB boundary, a character split by one, a line longer than a
      // piece, CRLF and lone CR breaks, empty lines (dropped by both).
      const lines: string[] = [];
      for (let i = 0, chars = 0; chars < 6 * 2 ** 20; i++) chars += lines[lines.push(`{"n":${i},"t":"${'é€😀'.repeat(i % 7)}${'x'.repeat(i % 997)}"}`) - 1]!.length + 1;
      lines.splice(100, 0, 'y'.repeat(2_500_000));
      await store.writeLines(`${root}/runs/a.jsonl`, lines);
      const runs: string[][] = [];
      for await (const run of lineRuns(store, `${root}/runs/a.jsonl`)) runs.push(run);
      assert.deepEqual(runs.flat(), lines);
      assert.deepEqual(runs.flat(), await collect(store.readLines(`${root}/runs/a.jsonl`)));
      await store.writeLines(`${root}/runs/crlf.jsonl`, ['a\r', '', 'b\rc', '']);
      const crlf: string[] = [];
      for await (const run of lineRuns(store, `${root}/runs/crlf.jsonl`)) crlf.push(...run);
      assert.deepEqual(crlf, await collect(store.readLines(`${root}/runs/crlf.jsonl`)));
      await assert.rejects(collect(lineRuns(store, `${root}/runs/missing.jsonl`)), BlobNotFoundError);
    });

    test('a missing blob: readLines throws BlobNotFoundError, exists is false', async () => {
      await assert.rejects(collect(store.readLines(`${root}/never-written.jsonl`)), BlobNotFoundError);
      assert.equal(await store.exists(`${root}/never-written.jsonl`), false);
    });

    test('keys are normalized and may not leave the store', async () => {
      await store.writeJson(`${root}//norm/./x.json`, { n: 1 });
      assert.deepEqual(await store.readJson(`${root}/norm/x.json`), { n: 1 });
      await assert.rejects(store.writeJson('../outside.json', {}), /Bad store key/);
      await assert.rejects(store.writeJson('/absolute.json', {}), /Bad store key/);
    });
  });
}
