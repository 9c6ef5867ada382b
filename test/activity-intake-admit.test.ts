// The intake's admission activity on a real store (a local directory, and PostgreSQL: SLUICE_TEST_DATABASE_URL,
// which scripts/start-test-postgres.sh prints; without it that half fails rather than skips): a custom_id is claimed
// once, a retried attempt of the same call gets the same answers, room is given out in order, and a duplicate names
// where the first request is.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { intakeBufferActivities } from '../src/activities/intake-buffer';
import type { AdmitInput } from '../src/contracts/activities';
import { intakeKeys } from '../src/contracts/store-keys';
import { IntakeOptionsSchema } from '../src/domain/intake';
import { jobKeys } from '../src/domain/job';
import type { BlobStore } from '../src/store/blob-store';
import { LocalDirectoryStore } from '../src/store/local-store';
import { PostgresStore } from '../src/store/postgres-store';

const o = IntakeOptionsSchema.parse({});
const plan = { tiers: o.tiers, cutLeadMs: o.cutLeadMs, defaultTier: o.defaultTier };

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

const STORES: Record<string, () => Promise<BlobStore>> = {
  'local directory': async () => new LocalDirectoryStore(await mkdtemp(path.join(os.tmpdir(), 'sluice-admit-'))),
  postgres: () => {
    const url = process.env.SLUICE_TEST_DATABASE_URL;
    if (!url)
      return Promise.reject(
        new Error('SLUICE_TEST_DATABASE_URL is not set: export SLUICE_TEST_DATABASE_URL="$(scripts/start-test-postgres.sh)"'),
      );
    const store = new PostgresStore({
      connectionString: url,
      schema: `sluice_admit_${randomUUID().replaceAll('-', '').slice(0, 12)}`,
    });
    closers.push(() => store.close());
    return Promise.resolve(store);
  },
};

for (const [kind, makeStore] of Object.entries(STORES))
  describe(kind, () => {
    async function setUp() {
      const store = await makeStore();
      const acts = intakeBufferActivities({ store });
      const body = (id: string) =>
        JSON.stringify({
          custom_id: id,
          line: 1,
          params: { model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: id }] },
        });
      const call = async (segmentId: string, ids: string[], room = 100, seq = 1): Promise<AdmitInput> => {
        const segment = intakeKeys.segment('q', segmentId);
        await store.writeLines(segment, ids.map(body));
        return {
          intake: 'q',
          segment,
          chunkKey: intakeKeys.bufferChunk('q', 'inc', seq),
          room,
          nowMs: Date.parse('2026-12-01T10:00:00Z'),
          plan,
          items: ids.map((custom_id) => ({ custom_id })),
        };
      };
      return { store, acts, call };
    }

    test('the same call run twice answers the same; another call with the same custom_id is a duplicate naming its state', async () => {
      const { acts, call } = await setUp();
      const first = await call('seg-a', ['a', 'b']);
      const once = await acts.admitIntakeRequests(first);
      const twice = await acts.admitIntakeRequests(first);
      assert.deepEqual(once.notAccepted, []);
      assert.deepEqual(twice, once, 'a retried attempt changes nothing');
      assert.equal(once.chunks[0]!.count, 2);

      const other = await acts.admitIntakeRequests(await call('seg-b', ['b', 'c'], 100, 2));
      assert.equal(other.accepted, 1);
      assert.deepEqual(
        other.notAccepted.map((a) => [a.at, a.custom_id, a.status]),
        [[0, 'b', 'duplicate']],
      );
      assert.equal(other.notAccepted[0]!.reason, 'already accepted 2026-12-01 10:00:00 UTC: buffered (bulk)');

      // Cut into a job: the record says so, and a later duplicate names the job.
      await acts.cutIntakeChunks({
        intake: 'q',
        jobId: 'job-1',
        parts: [{ key: once.chunks[0]!.key, from: 0, to: 2 }],
      });
      const later = await acts.admitIntakeRequests(await call('seg-c', ['a'], 100, 3));
      assert.equal(later.notAccepted[0]!.reason, 'already accepted 2026-12-01 10:00:00 UTC: in job job-1');
    });

    test('room is given out in order; a refused request leaves no record and is accepted later', async () => {
      const { store, acts, call } = await setUp();
      const r = await acts.admitIntakeRequests(await call('seg-a', ['x', 'y', 'z'], 2));
      assert.equal(r.accepted, 2);
      assert.deepEqual(
        r.notAccepted.map((a) => [a.custom_id, a.status]),
        [['z', 'refused']],
      );
      assert.equal(await store.exists(intakeKeys.requestRecord('q', 'z')), false);
      const again = await acts.admitIntakeRequests(await call('seg-b', ['z'], 5, 2));
      assert.equal(again.accepted, 1);
    });

    test('a group commit of several calls: room and duplicates counted through the groups in order, the same answers when run twice', async () => {
      const { store, acts, call } = await setUp();
      await acts.admitIntakeRequests(await call('seg-0', ['old']));
      const a = await call('seg-a', ['a1', 'old', 'a2']);
      const b = await call('seg-b', ['b1', 'b2', 'b3']);
      const input = { ...a, chunkKey: intakeKeys.bufferChunk('q', 'inc', 2), room: 4, groups: [a, b].map((g) => ({ segment: g.segment, items: g.items })) };
      const once = await acts.admitIntakeGroups(input);
      assert.equal(once.accepted, 4);
      assert.deepEqual(
        once.notAccepted.map((n) => [n.at, n.custom_id, n.status]),
        [
          [1, 'old', 'duplicate'],
          [5, 'b3', 'refused'],
        ],
      );
      assert.equal(once.chunks.length, 1, 'one chunk per tier for the whole group');
      assert.equal(once.chunks[0]!.count, 4);
      assert.deepEqual(await acts.admitIntakeGroups(input), once, 'a retried attempt changes nothing');
      assert.equal(await store.exists(intakeKeys.requestRecord('q', 'b3')), false, 'no record claimed past the room');
      // Each record names its own call's segment: a later call with b1 is told it is taken.
      const later = await acts.admitIntakeRequests(await call('seg-c', ['b1', 'b3'], 100, 3));
      assert.deepEqual(
        later.notAccepted.map((n) => [n.custom_id, n.status]),
        [['b1', 'duplicate']],
      );
    });

    test('merged chunks keep every line not yet cut, sorted by cut time', async () => {
      const { acts, call } = await setUp();
      const a = await acts.admitIntakeRequests(await call('seg-a', ['a1', 'a2', 'a3'], 100, 1));
      const b = await acts.admitIntakeRequests(await call('seg-b', ['b1'], 100, 2));
      const merged = await acts.compactIntakeChunks({
        intake: 'q',
        key: intakeKeys.bufferChunk('q', 'inc', 3),
        tier: 'bulk',
        parts: [
          { key: a.chunks[0]!.key, from: 1 },
          { key: b.chunks[0]!.key, from: 0 },
        ],
      });
      assert.equal(merged.count, 3);
      const cut = await acts.cutIntakeChunks({
        intake: 'q',
        jobId: 'job-2',
        parts: [{ key: merged.key, from: 0, to: 3 }],
      });
      assert.equal(cut.requestCount, 3);
    });

    test('deferred records: one chunk is the only write, a duplicate still in its chunk is found there, and the records come later without undoing a cut', async () => {
      const { store, acts, call } = await setUp();
      const group = async (segmentId: string, ids: string[], seq: number, unrecorded: string[]) => {
        const c = await call(segmentId, ids, 100, seq);
        return { ...c, unrecorded, groups: [{ segment: c.segment, items: c.items }] };
      };
      const firstInput = await group('seg-a', ['a', 'b', 'c'], 1, []);
      const first = await acts.admitIntakeGroupsDeferred(firstInput);
      assert.equal(first.accepted, 3);
      assert.equal(first.chunks[0]!.unrecorded, true, 'the chunk is marked: its records are not written yet');
      assert.equal(await store.exists(intakeKeys.requestRecord('q', 'a')), false, 'no record claimed on the enqueue path');
      assert.deepEqual(await acts.admitIntakeGroupsDeferred(firstInput), first, 'a retried attempt answers the same');

      // Only in the first chunk: a duplicate all the same, naming the first's state.
      const chunkA = first.chunks[0]!.key;
      const second = await acts.admitIntakeGroupsDeferred(await group('seg-b', ['b', 'd'], 2, [chunkA]));
      assert.deepEqual(second.notAccepted.map((n) => [n.at, n.custom_id, n.status, n.reason]), [[0, 'b', 'duplicate', 'already accepted 2026-12-01 10:00:00 UTC: buffered (bulk)']]);
      // The worker that wrote the chunk kept it as written; another one reads it from the store and finds the same.
      const elsewhere = await intakeBufferActivities({ store }).admitIntakeGroupsDeferred(await group('seg-b2', ['b'], 9, [chunkA]));
      assert.deepEqual(elsewhere.notAccepted.map((n) => [n.custom_id, n.status]), [['b', 'duplicate']]);

      // 'a' is cut into a job before the records are written: its record names the job and keeps it.
      await acts.cutIntakeChunks({ intake: 'q', jobId: 'job-1', parts: [{ key: chunkA, from: 0, to: 1 }] });
      const recorded = await acts.recordIntakeChunks({ intake: 'q', parts: [{ key: chunkA, from: 0 }, { key: second.chunks[0]!.key, from: 0 }] });
      assert.equal(recorded.written, 3, 'b, c and d: a has the cut');
      assert.deepEqual(recorded.recorded, [chunkA, second.chunks[0]!.key]);
      assert.equal((await acts.recordIntakeChunks({ intake: 'q', parts: [{ key: chunkA, from: 0 }] })).written, 0, 'run twice, nothing more');

      // No chunk left to look in: the records alone answer.
      const later = await acts.admitIntakeGroupsDeferred(await group('seg-c', ['a', 'c', 'd', 'e'], 3, []));
      assert.deepEqual(
        later.notAccepted.map((n) => [n.custom_id, n.reason]),
        [
          ['a', 'already accepted 2026-12-01 10:00:00 UTC: in job job-1'],
          ['c', 'already accepted 2026-12-01 10:00:00 UTC: buffered (bulk)'],
          ['d', 'already accepted 2026-12-01 10:00:00 UTC: buffered (bulk)'],
        ],
      );
      assert.equal(later.accepted, 1);
    });

    test('a record that cannot be read fails the admission (retried) rather than accept a duplicate', async () => {
      const { store, acts, call } = await setUp();
      const first = await acts.admitIntakeRequests(await call('seg-a', ['a', 'b']));
      assert.equal(first.accepted, 2);
      const broken = failingReads(store, intakeKeys.requestRecord('q', 'b'));
      const flaky = intakeBufferActivities({ store: broken });
      // Deferred: the read of b's record fails (a pool error, EIO): no answer, least of all "accepted".
      const deferred = await call('seg-b', ['b', 'c'], 100, 2);
      await assert.rejects(flaky.admitIntakeGroupsDeferred({ ...deferred, unrecorded: [], groups: [{ segment: deferred.segment, items: deferred.items }] }), /read failed/);
      // Claiming: b's record exists and its read fails: not taken for this call's own, not overwritten.
      await assert.rejects(flaky.admitIntakeRequests(await call('seg-c', ['b'], 100, 3)), /read failed/);
      assert.equal((await store.readJson<{ segment: string }>(intakeKeys.requestRecord('q', 'b')))!.segment, intakeKeys.segment('q', 'seg-a'), 'b keeps its first record');
      // Past the room: a failed read is no "queue full" either.
      await assert.rejects(flaky.admitIntakeRequests(await call('seg-d', ['e', 'b'], 1, 4)), /read failed/);
      // The store readable again, the retried attempt answers duplicate.
      const retried = await acts.admitIntakeGroupsDeferred({ ...deferred, unrecorded: [], groups: [{ segment: deferred.segment, items: deferred.items }] });
      assert.deepEqual(retried.notAccepted.map((n) => [n.custom_id, n.status]), [['b', 'duplicate']]);
    });

    test('duplicates of a done job are described with one read of its results', async () => {
      const { store, acts, call } = await setUp();
      const first = await acts.admitIntakeRequests(await call('seg-a', ['a', 'b', 'c']));
      await acts.cutIntakeChunks({ intake: 'q', jobId: 'job-1', parts: [{ key: first.chunks[0]!.key, from: 0, to: 3 }] });
      await store.writeJson(jobKeys.output('job-1', 'summary.json'), { jobId: 'job-1' });
      await store.writeLines(
        jobKeys.output('job-1', 'results.jsonl'),
        ['a', 'b', 'c'].map((id, n) => JSON.stringify({ custom_id: id, line: n + 1, status: id === 'b' ? 'errored' : 'succeeded', attempts: 1, batch_ids: [] })),
      );
      const counted = countingStore(store);
      const again = await call('seg-b', ['a', 'b', 'c', 'd'], 100, 2);
      const r = await intakeBufferActivities({ store: counted.store }).admitIntakeGroupsDeferred({
        ...again,
        unrecorded: [],
        groups: [{ segment: again.segment, items: again.items }],
      });
      assert.deepEqual(
        r.notAccepted.map((n) => [n.at, n.custom_id, n.reason]),
        [
          [0, 'a', 'already accepted 2026-12-01 10:00:00 UTC: done in job job-1: succeeded'],
          [1, 'b', 'already accepted 2026-12-01 10:00:00 UTC: done in job job-1: errored'],
          [2, 'c', 'already accepted 2026-12-01 10:00:00 UTC: done in job job-1: succeeded'],
        ],
      );
      assert.equal(counted.readLines.filter((k) => k === jobKeys.output('job-1', 'results.jsonl')).length, 1, 'the results file read once for three duplicates');
    });

    test('recording: a chunk that is gone is skipped and named, the others recorded', async () => {
      const { store, acts, call } = await setUp();
      const a = await call('seg-a', ['a', 'b'], 100, 1);
      const made = await acts.admitIntakeGroupsDeferred({ ...a, unrecorded: [], groups: [{ segment: a.segment, items: a.items }] });
      const gone = intakeKeys.bufferChunk('q', 'inc', 9);
      const kept = made.chunks[0]!.key;
      const r = await acts.recordIntakeChunks({ intake: 'q', parts: [{ key: gone, from: 0 }, { key: kept, from: 0 }] });
      assert.deepEqual(r, { written: 2, recorded: [kept], missing: [gone] });
      assert.equal(await store.exists(intakeKeys.requestRecord('q', 'a')), true);
    });

    test('a merge of a recorded chunk and a marked one: recording it writes only the marked lines, and dedup still sees them', async () => {
      const { store, acts, call } = await setUp();
      const deferred = async (segmentId: string, ids: string[], seq: number, unrecorded: string[]) => {
        const c = await call(segmentId, ids, 100, seq);
        return acts.admitIntakeGroupsDeferred({ ...c, unrecorded, groups: [{ segment: c.segment, items: c.items }] });
      };
      const old = (await deferred('seg-a', ['a1', 'a2', 'a3'], 1, [])).chunks[0]!.key;
      await acts.recordIntakeChunks({ intake: 'q', parts: [{ key: old, from: 0 }] });
      const fresh = (await deferred('seg-b', ['b1'], 2, [old])).chunks[0]!.key;
      const merged = await acts.compactIntakeChunks({
        intake: 'q',
        key: intakeKeys.bufferChunk('q', 'inc', 3),
        tier: 'bulk',
        parts: [
          { key: old, from: 0 },
          { key: fresh, from: 0, unrecorded: true },
        ],
      });
      // The merge is marked: b1 (no record yet) is a duplicate found in it.
      const again = await deferred('seg-c', ['b1', 'a2', 'c1'], 4, [merged.key]);
      assert.deepEqual(again.notAccepted.map((n) => [n.custom_id, n.status]), [['b1', 'duplicate'], ['a2', 'duplicate']]);
      const counted = countingStore(store);
      const r = await intakeBufferActivities({ store: counted.store }).recordIntakeChunks({ intake: 'q', parts: [{ key: merged.key, from: 0 }] });
      assert.deepEqual(counted.creates, [intakeKeys.requestRecord('q', 'b1')], 'a1..a3 have records: not created again');
      assert.equal(r.written, 1);
    });
  });

/** The real store, with every read of one key failing as a dropped connection would. */
function failingReads(store: BlobStore, key: string): BlobStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'readJson') return async (k: string) => (k === key ? Promise.reject(new Error(`read failed: ${k}`)) : target.readJson(k));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The real store, noting which keys are streamed and created. */
function countingStore(store: BlobStore) {
  const readLines: string[] = [];
  const creates: string[] = [];
  const counted = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'readLines') return (k: string) => (readLines.push(k), target.readLines(k));
      if (prop === 'readAllLines') return undefined;
      if (prop === 'createJsonExclusive') return (k: string, v: unknown) => (creates.push(k), target.createJsonExclusive(k, v));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store: counted, readLines, creates };
}
