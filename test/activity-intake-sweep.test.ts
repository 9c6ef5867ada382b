// The intake's sweep, run as an activity against a real store: a chunk merged into another is listed for the sweep
// while its requests may still wait (a far deadline, cuts held back). What a user relies on: past retention, a cut
// request's record goes, but a request still buffered keeps its record (its dedup) and its body, and the body of an
// enqueue call goes only once none of its requests waits; once cut and swept itself, the rest goes too.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { BufferLine, RequestRecord } from '../src/contracts/activities';
import { intakeKeys } from '../src/contracts/store-keys';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import { activityHarness } from './helpers/activities';

let emulator: EmulatorHandle;
before(async () => {
  emulator = await startEmulator({ port: 0 });
});
after(() => emulator.close());

const INTAKE = 'sw';
const line = (customId: string, segment: string): BufferLine => ({
  customId,
  segment,
  tier: 'bulk',
  enqueuedAtMs: 1_000,
  deadlineMs: 10_000_000,
  cutByMs: 9_000_000,
});
const record = (l: BufferLine, jobId?: string): RequestRecord => ({
  custom_id: l.customId,
  segment: l.segment,
  tier: l.tier,
  acceptedAtMs: l.enqueuedAtMs,
  ...(jobId ? { jobId } : {}),
});

test('a sweep keeps what still waits: a merged-away chunk’s buffered request keeps its record and its call’s bodies', async () => {
  const { store, acts, run } = await activityHarness(emulator);
  const shared = intakeKeys.segment(INTAKE, 'call-1'); // one enqueue call: a cut request and one still waiting
  const cutOnly = intakeKeys.segment(INTAKE, 'call-2');
  const cut = line('cut-1', shared);
  const waiting = line('far-deadline', shared);
  const cutToo = line('cut-2', cutOnly);
  for (const [key, ids] of [[shared, ['cut-1', 'far-deadline']], [cutOnly, ['cut-2']]] as const) {
    await store.writeLines(key, ids.map((id) => JSON.stringify({ custom_id: id, params: { model: 'claude-haiku-4-5' } })));
  }
  await store.writeJson(intakeKeys.requestRecord(INTAKE, cut.customId), record(cut, 'job-a'));
  await store.writeJson(intakeKeys.requestRecord(INTAKE, cutToo.customId), record(cutToo, 'job-a'));
  await store.writeJson(intakeKeys.requestRecord(INTAKE, waiting.customId), record(waiting));
  // The source chunk of a merge: its waiting line lives on in the merged chunk, which is not spent.
  const source = intakeKeys.bufferChunk(INTAKE, 'inc', 1);
  await store.writeLines(source, [cut, waiting, cutToo].map((l) => JSON.stringify(l)));
  await run(acts.retireIntakeChunks, { intake: INTAKE, listKey: intakeKeys.retired(INTAKE, 5_000, 'inc', 2), chunkKeys: [source] });

  const first = await run(acts.sweepIntake, { intake: INTAKE, cutoffMs: 6_000 });
  assert.equal(first.records, 2, 'the two cut requests lose their records');
  assert.equal(await store.exists(intakeKeys.requestRecord(INTAKE, 'cut-1')), false);
  assert.ok(await store.exists(intakeKeys.requestRecord(INTAKE, 'far-deadline')), 'the waiting request keeps its dedup record');
  assert.ok(await store.exists(shared), 'the call whose request still waits keeps its bodies');
  assert.equal(await store.exists(cutOnly), false, 'a call whose requests were all cut loses its bodies');
  assert.equal(await store.exists(source), false, 'the spent chunk goes');

  // Later the waiting request is cut (its record names its job), and its chunk is spent and swept in turn.
  await store.writeJson(intakeKeys.requestRecord(INTAKE, waiting.customId), record(waiting, 'job-b'));
  const merged = intakeKeys.bufferChunk(INTAKE, 'inc', 3);
  await store.writeLines(merged, [JSON.stringify(waiting)]);
  await run(acts.retireIntakeChunks, { intake: INTAKE, listKey: intakeKeys.retired(INTAKE, 7_000, 'inc', 4), chunkKeys: [merged] });
  const second = await run(acts.sweepIntake, { intake: INTAKE, cutoffMs: 8_000 });
  assert.deepEqual({ records: second.records, segments: second.segments }, { records: 1, segments: 1 });
  assert.equal(await store.exists(intakeKeys.requestRecord(INTAKE, 'far-deadline')), false);
  assert.equal(await store.exists(shared), false);

  // Run again: nothing left, nothing fails.
  assert.deepEqual(await run(acts.sweepIntake, { intake: INTAKE, cutoffMs: 8_000 }), { lists: 0, chunks: 0, records: 0, segments: 0, more: false });
});

/** A list of one chunk, retired at `atMs`: `cut` requests whose records name a job, `waiting` ones still buffered. */
async function retiredList(h: Awaited<ReturnType<typeof activityHarness>>, n: number, atMs: number, cut: number, waiting: number) {
  const segment = intakeKeys.segment(INTAKE, `call-${n}`);
  const lines = [...Array.from({ length: cut }, (_, i) => line(`l${n}-cut-${i}`, segment)), ...Array.from({ length: waiting }, (_, i) => line(`l${n}-wait-${i}`, segment))];
  await h.store.writeLines(segment, lines.map((l) => JSON.stringify({ custom_id: l.customId, params: { model: 'claude-haiku-4-5' } })));
  for (const l of lines) await h.store.writeJson(intakeKeys.requestRecord(INTAKE, l.customId), record(l, l.customId.includes('-cut-') ? 'job-a' : undefined));
  const chunk = intakeKeys.bufferChunk(INTAKE, 'inc', 2 * n);
  await h.store.writeLines(chunk, lines.map((l) => JSON.stringify(l)));
  const listKey = intakeKeys.retired(INTAKE, atMs, 'inc', 2 * n + 1);
  await h.run(h.acts.retireIntakeChunks, { intake: INTAKE, listKey, chunkKeys: [chunk] });
  return { segment, chunk, listKey, lines };
}

test('a sweep over more lists than one call takes says "more" and finishes across calls, keeping what still waits', async () => {
  const h = await activityHarness(emulator);
  const lists = [];
  for (let n = 1; n <= 5; n++) lists.push(await retiredList(h, n, 1_000 + n, 3, 1));
  const notYet = await retiredList(h, 9, 50_000, 2, 0); // retired after the cutoff: not due
  const sweep = () => h.run(h.acts.sweepIntake, { intake: INTAKE, cutoffMs: 10_000, maxLists: 2 });

  const calls = [await sweep(), await sweep(), await sweep()];
  assert.deepEqual(
    calls.map((c) => [c.lists, c.records, c.more]),
    [
      [2, 6, true],
      [2, 6, true],
      [1, 3, false],
    ],
  );
  for (const l of lists) {
    assert.equal(await h.store.exists(l.chunk), false, `${l.chunk} is swept`);
    assert.equal(await h.store.exists(l.listKey), false);
    for (const r of l.lines) {
      const kept = await h.store.exists(intakeKeys.requestRecord(INTAKE, r.customId));
      assert.equal(kept, r.customId.includes('-wait-'), `${r.customId}: only a waiting request keeps its record`);
    }
    assert.ok(await h.store.exists(l.segment), 'a call whose request still waits keeps its bodies');
  }
  assert.ok(await h.store.exists(notYet.listKey), 'a list within retention stays');
  assert.ok(await h.store.exists(intakeKeys.requestRecord(INTAKE, notYet.lines[0]!.customId)));
  assert.equal((await sweep()).more, false, 'nothing more is due');
});

test('a canceled sweep (a timed-out attempt) stops deleting at once, and its retry finishes the list', async () => {
  const h = await activityHarness(emulator);
  // Two chunks in one list, more lines than one batch of deletes each: the attempt is canceled at its first heartbeat.
  const first = await retiredList(h, 1, 1_000, 70, 0);
  const second = await retiredList(h, 2, 1_001, 70, 0);
  const attempt = new MockActivityEnvironment();
  let beats = 0;
  attempt.on('heartbeat', () => {
    if (++beats === 1) attempt.cancel();
  });
  await assert.rejects(attempt.run(h.acts.sweepIntake, { intake: INTAKE, cutoffMs: 10_000 }), CancelledFailure);
  const left = async (lines: BufferLine[]) => {
    let n = 0;
    for (const l of lines) if (await h.store.exists(intakeKeys.requestRecord(INTAKE, l.customId))) n++;
    return n;
  };
  assert.equal(await left(first.lines), 70 - 64, 'only the batch before the cancellation lost its records');
  assert.equal(await left(second.lines), 70, 'the next list is not touched');
  for (const key of [first.chunk, first.listKey, first.segment, second.chunk, second.listKey]) assert.ok(await h.store.exists(key), `${key} is kept`);

  // The retry (its own attempt) sweeps everything the canceled one left.
  const retry = await h.run(h.acts.sweepIntake, { intake: INTAKE, cutoffMs: 10_000 });
  assert.deepEqual({ lists: retry.lists, records: retry.records, more: retry.more }, { lists: 2, records: 70 - 64 + 70, more: false });
  assert.equal(await left(first.lines), 0);
  assert.equal(await left(second.lines), 0);
  for (const key of [first.chunk, first.listKey, first.segment, second.chunk, second.listKey]) assert.equal(await h.store.exists(key), false, `${key} is swept`);
});
