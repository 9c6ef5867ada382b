// The store-backed intake's decisions and its status wording, on states built here (no server).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChunkRef } from '../src/contracts/activities';
import { IntakeOptionsSchema } from '../src/domain/intake';
import { describeWaits, utcClock } from '../src/domain/intake-wording';
import { afterRecording, afterSweep, applyCut, compactionDue, planCuts, RETIRE_BATCH, retireDue, silentJobs, sweepCutoffMs, tierWaits, waitMs } from '../src/workflows/intake-decisions';

const chunk = (key: string, tier: ChunkRef['tier'], count: number, cutByMs: number, taken = 0): ChunkRef => ({
  key,
  tier,
  count,
  taken,
  cutByMs,
  deadlineMs: cutByMs + 1_000,
  enqueuedAtMs: 0,
});

test('full sub-batches are cut at once, the rest only at its cut time', () => {
  const chunks = [chunk('a', 'bulk', 150, 5_000), chunk('b', 'bulk', 30, 9_000)];
  const now = planCuts(chunks, 1_000, 100);
  assert.deepEqual(now.map((c) => c.parts), [[{ key: 'a', from: 0, to: 100 }]]);
  const later = planCuts(applyCut(chunks, now[0]!), 5_000, 100);
  assert.deepEqual(later.map((c) => c.parts), [[{ key: 'a', from: 100, to: 150 }, { key: 'b', from: 0, to: 30 }]]);
  assert.equal(later[0]!.deadlineMs, 6_000, 'the earliest deadline of what it takes');
  assert.deepEqual(applyCut(applyCut(chunks, now[0]!), later[0]!), [], 'used-up chunks are dropped');
});

test('cuts made at once and ending in any order leave the same buffer', () => {
  const chunks = [chunk('a', 'bulk', 250, 5_000)];
  const [first, second] = planCuts(chunks, 1_000, 100);
  assert.deepEqual([first!.parts, second!.parts], [[{ key: 'a', from: 0, to: 100 }], [{ key: 'a', from: 100, to: 200 }]]);
  const inOrder = applyCut(applyCut(chunks, first!), second!);
  const reversed = applyCut(applyCut(chunks, second!), first!);
  assert.deepEqual(reversed, inOrder);
  assert.equal(inOrder[0]!.taken, 200, 'the 50 not cut still wait');
});

test('a flush cuts every tier now, however few; urgent never waits', () => {
  const chunks = [chunk('s', 'standard', 3, 50_000), chunk('b', 'bulk', 2, 90_000), chunk('u', 'urgent', 1, 0)];
  assert.deepEqual(planCuts(chunks, 0, 100).map((c) => c.tier), ['urgent']);
  assert.deepEqual(planCuts(chunks, 0, 100, true).map((c) => [c.tier, c.count]), [['urgent', 1], ['standard', 3], ['bulk', 2]]);
});

test('chunks are merged past the per-tier limit; silent jobs and the wait follow the clock', () => {
  const many = Array.from({ length: 5 }, (_, i) => chunk(`c${i}`, 'bulk', 1, 10_000));
  assert.equal(compactionDue(many, 5), undefined);
  assert.deepEqual(compactionDue([...many, chunk('x', 'bulk', 1, 1)], 5)?.keys.length, 6);
  const jobs = [{ jobId: 'j1', lastHeardMs: 0 }, { jobId: 'j2', lastHeardMs: 500 }];
  assert.deepEqual(silentJobs(jobs, 1_000, 600).map((j) => j.jobId), ['j1']);
  assert.equal(waitMs(many, jobs, 1_000, 600), 1, 'j1 is overdue: at once');
  assert.equal(waitMs(many, [jobs[1]!], 1_000, 600), 100, 'j2 is described at 1,100');
  assert.equal(waitMs(many, [], 1_000, 600), 9_000, 'else the cut time');
});

test('status says why the next cut waits and how to send now', () => {
  const o = IntakeOptionsSchema.parse({});
  const now = Date.parse('2026-12-01T22:00:00Z');
  const cutAt = Date.parse('2026-12-02T02:13:00Z');
  const waits = tierWaits([chunk('b', 'bulk', 3, cutAt)], o);
  assert.equal(waits[0]!.latestSafeMs, Date.parse('2026-12-02T02:14:00Z'));
  const lines = describeWaits({ name: 'support', waits, batchSize: 100, jobsInFlight: 0, maxJobsInFlight: 200 }, now);
  assert.deepEqual(lines, [
    'bulk: 3 waiting; cut at 100 requests or at 2026-12-02 02:13 UTC, in 4h 13m (the latest safe submission is 2026-12-02 02:14 UTC)',
    '`sluice intake flush support` sends everything waiting now',
  ]);
  assert.equal(utcClock(cutAt, Date.parse('2026-12-02T01:00:00Z')), '02:13 UTC');
  const full = describeWaits({ name: 'q', waits, batchSize: 100, jobsInFlight: 200, maxJobsInFlight: 200 }, now);
  assert.match(full[1]!, /all 200 sub-batches allowed in flight are running: the next cut waits for one to end/);
});

test('spent chunks are listed for the sweep at a full batch or a minute after the first, sooner with a shorter retention', () => {
  const o = IntakeOptionsSchema.parse({});
  assert.equal(retireDue(0, undefined, 1_000_000, o), false, 'nothing spent');
  assert.equal(retireDue(3, 1_000_000, 1_030_000, o), false, 'three, half a minute old');
  assert.equal(retireDue(3, 1_000_000, 1_060_000, o), true, 'three, a minute old');
  assert.equal(retireDue(RETIRE_BATCH, 1_000_000, 1_000_000, o), true, 'a full batch at once');
  assert.equal(retireDue(1, 1_000_000, 1_001_000, { retentionMs: 1_000 }), true, 'a 1 s retention lists within a second');
});

test('the sweep takes lists older than the retention, never younger than twice the longest SLA', () => {
  const o = IntakeOptionsSchema.parse({});
  const now = Date.UTC(2026, 0, 31);
  assert.equal(sweepCutoffMs(o, now), now - 30 * 24 * 3_600_000, 'the default 30 days');
  assert.equal(sweepCutoffMs({ ...o, retentionMs: 3_600_000 }, now), now - 60 * 3_600_000, 'an hour is raised to twice the 30 h bulk SLA');
});

test('a sweep call that leaves more wakes the intake for the next; one that finished asks for none; a failed one waits', () => {
  assert.deepEqual(afterSweep({ more: true }), { due: true, wake: true });
  assert.deepEqual(afterSweep({ more: false }), { due: false, wake: false });
  assert.deepEqual(afterSweep({}), { due: false, wake: false }, 'a sweep recorded before the bound said nothing of more');
  assert.deepEqual(afterSweep(undefined), { due: true, wake: false });
});

test('after a recording only the chunks it reports lose their marks: one gone leaves the others marked until recorded', () => {
  const chunk = (key: string, unrecorded: boolean): ChunkRef => ({ key, tier: 'bulk', count: 1, taken: 0, cutByMs: 0, deadlineMs: 0, enqueuedAtMs: 0, ...(unrecorded ? { unrecorded: true as const } : {}) });
  const marked = (chunks: ChunkRef[]) => chunks.filter((c) => c.unrecorded).map((c) => c.key);
  const chunks = [chunk('a', true), chunk('b', true), chunk('c', true), chunk('old', false)];
  const asked = ['a', 'b', 'c'];
  // b's chunk is gone, c was not reached: a and b lose their marks, c keeps its own.
  assert.deepEqual(marked(afterRecording(chunks, asked, { recorded: ['a'], missing: ['b'] })), ['c']);
  // Failed for good: every mark stays, for a later turn.
  assert.deepEqual(marked(afterRecording(chunks, asked, undefined)), ['a', 'b', 'c']);
  // A worker of the release before the lists answered: it recorded every part.
  assert.deepEqual(marked(afterRecording(chunks, asked, {})), []);
  // A chunk marked while it ran (not asked) stays marked.
  assert.deepEqual(marked(afterRecording([...chunks, chunk('d', true)], asked, { recorded: asked, missing: [] })), ['d']);
});
