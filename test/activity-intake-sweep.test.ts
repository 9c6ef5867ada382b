// The intake's sweep, run as an activity against a real store: a chunk merged into another is listed for the sweep
// while its requests may still wait (a far deadline, cuts held back). What a user relies on: past retention, a cut
// request's record goes, but a request still buffered keeps its record (its dedup) and its body, and the body of an
// enqueue call goes only once none of its requests waits; once cut and swept itself, the rest goes too.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
  assert.deepEqual(await run(acts.sweepIntake, { intake: INTAKE, cutoffMs: 8_000 }), { lists: 0, chunks: 0, records: 0, segments: 0 });
});
