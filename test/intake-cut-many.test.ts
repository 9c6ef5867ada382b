// planCutsMany (patch intake-cut-many): one child job per cut of up to maxCutRequests, a gather window for tiers
// holding a sub-batch, and the same deadlines, urgency and flush as before. No server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChunkRef } from '../src/contracts/activities';
import { IntakeOptionsSchema } from '../src/domain/intake';
import { describeWaits } from '../src/domain/intake-wording';
import { nextCutAtMs, planCutsMany, tierWaits, waitManyMs } from '../src/workflows/intake-decisions';

const chunk = (key: string, tier: ChunkRef['tier'], count: number, cutByMs: number, enqueuedAtMs = 0): ChunkRef => ({
  key,
  tier,
  count,
  taken: 0,
  cutByMs,
  deadlineMs: cutByMs + 1_000,
  enqueuedAtMs,
});
const limits = { batchSize: 100, maxCutRequests: 1_000, cutGatherMs: 3_000 };

test('a tier holding a full cut is cut at once, capped at maxCutRequests per job', () => {
  const cuts = planCutsMany([chunk('a', 'bulk', 1_500, 90_000, 500), chunk('b', 'bulk', 700, 80_000, 900)], 1_000, limits);
  assert.deepEqual(cuts.map((c) => c.count), [1_000, 1_000], 'two cuts of the cap; the 200 left gather');
  assert.deepEqual(cuts[0]!.parts, [{ key: 'b', from: 0, to: 700 }, { key: 'a', from: 0, to: 300 }], 'by cut time');
  assert.equal(cuts[0]!.deadlineMs, 81_000, "a cut's deadline is its earliest request's");
});

test('one sub-batch or more gathers until its oldest request has waited cutGatherMs, then goes whole', () => {
  const chunks = [chunk('a', 'standard', 150, 90_000, 1_000), chunk('b', 'standard', 250, 90_000, 2_500)];
  assert.deepEqual(planCutsMany(chunks, 3_999, limits), [], 'still gathering');
  const cuts = planCutsMany(chunks, 4_000, limits);
  assert.deepEqual(cuts.map((c) => c.count), [400], 'everything in one job of 4 sub-batches');
  assert.equal(nextCutAtMs(chunks, 'standard', limits), 4_000);
  assert.equal(waitManyMs(chunks, [], 2_000, 600_000, limits), 2_000, 'the loop wakes when it has gathered');
});

test('with every job slot taken the loop sleeps until the silent check, not every millisecond for cuts it cannot make', () => {
  const chunks = [chunk('a', 'standard', 150, 90_000, 1_000), chunk('b', 'standard', 250, 90_000, 2_500)];
  const jobs = [{ lastHeardMs: 5_000 }];
  assert.equal(waitManyMs(chunks, jobs, 10_000, 60_000, limits), 1, 'gathered and with room: cut now');
  assert.equal(waitManyMs(chunks, jobs, 10_000, 60_000, limits, false), 55_000, 'no room: until the job is checked (its end signal wakes it sooner)');
});

test('a cut for the gather window or the cap takes whole sub-batches only; the rest waits for its cut time', () => {
  const chunks = [chunk('a', 'bulk', 180, 90_000, 1_000), chunk('b', 'bulk', 270, 90_000, 2_000)];
  const gathered = planCutsMany(chunks, 4_000, limits);
  assert.deepEqual(gathered.map((c) => c.count), [400], 'four full sub-batches, not 450 in five');
  assert.deepEqual(gathered[0]!.parts, [{ key: 'a', from: 0, to: 180 }, { key: 'b', from: 0, to: 220 }]);
  const after = chunks.map((c) => (c.key === 'a' ? { ...c, taken: 180 } : { ...c, taken: 220 }));
  assert.deepEqual(planCutsMany(after, 4_000, limits), [], 'the 50 left are less than a sub-batch: they wait');
  assert.equal(nextCutAtMs(after, 'bulk', limits), 90_000);
  assert.deepEqual(planCutsMany(after, 90_000, limits).map((c) => c.count), [50], 'and go at their cut time');
  const capped = planCutsMany([chunk('a', 'bulk', 700, 90_000, 0)], 0, { ...limits, maxCutRequests: 250 });
  assert.deepEqual(capped.map((c) => c.count), [200, 200, 200], 'a cap that is no multiple of batchSize is rounded down');
});

test('a cut whose cut time has come, or a flush, takes everything up to the cap, part sub-batches too', () => {
  const chunks = [chunk('a', 'standard', 130, 5_000, 0), chunk('b', 'standard', 320, 9_000, 100)];
  assert.deepEqual(planCutsMany(chunks, 5_000, limits).map((c) => c.count), [450]);
  assert.deepEqual(planCutsMany(chunks, 1_000, limits, true).map((c) => c.count), [450]);
  assert.deepEqual(planCutsMany(chunks, 5_000, { ...limits, maxCutRequests: 250 }).map((c) => c.count), [250, 200]);
});

test('the gather window never passes the cut time; fewer than a sub-batch wait for the cut time only', () => {
  const soon = [chunk('a', 'bulk', 150, 2_000, 1_000)];
  assert.equal(nextCutAtMs(soon, 'bulk', limits), 2_000);
  assert.deepEqual(planCutsMany(soon, 2_000, limits).map((c) => c.count), [150]);
  const few = [chunk('a', 'bulk', 40, 50_000, 0)];
  assert.deepEqual(planCutsMany(few, 10_000, limits), [], 'no gather for less than a sub-batch');
  assert.equal(nextCutAtMs(few, 'bulk', limits), 50_000);
  assert.deepEqual(planCutsMany(few, 50_000, limits).map((c) => c.count), [40]);
});

test('urgent requests never wait and go one sub-batch per job; a flush cuts every tier now', () => {
  const chunks = [chunk('u', 'urgent', 250, 0, 900), chunk('s', 'standard', 3, 50_000, 900), chunk('b', 'bulk', 120, 90_000, 900)];
  assert.deepEqual(planCutsMany(chunks, 1_000, limits).map((c) => [c.tier, c.count]), [['urgent', 100], ['urgent', 100], ['urgent', 50]]);
  assert.deepEqual(planCutsMany(chunks, 1_000, limits, true).map((c) => [c.tier, c.count]), [['urgent', 100], ['urgent', 100], ['urgent', 50], ['standard', 3], ['bulk', 120]]);
});

test('a cap below batchSize is read as one sub-batch per cut', () => {
  const cuts = planCutsMany([chunk('a', 'bulk', 250, 0)], 0, { ...limits, maxCutRequests: 10 });
  assert.deepEqual(cuts.map((c) => c.count), [100, 100, 50]);
});

test('the status says a gathering tier is cut once gathered, its latest safe submission unchanged', () => {
  const o = IntakeOptionsSchema.parse({});
  assert.equal(o.maxCutRequests, 10_000);
  assert.equal(o.cutGatherMs, 3_000);
  const [w] = tierWaits([chunk('a', 'bulk', 150, 90_000, 1_000)], o, limits);
  assert.equal(w!.cutAtMs, 4_000);
  assert.equal(w!.latestSafeMs, 90_000 + o.cutLeadMs);
});

test('at the limit of jobs in flight, the status counts jobs (each of several sub-batches), not sub-batches', () => {
  const waits = [{ tier: 'bulk' as const, waiting: 150, cutAtMs: 4_000, latestSafeMs: 90_500 }];
  const st = { name: 'q', waits, batchSize: 100, jobsInFlight: 4, maxJobsInFlight: 4, maxCutRequests: 1_000, cutGatherMs: 3_000 };
  assert.match(describeWaits(st, 1_000)[1]!, /^all 4 jobs allowed in flight are running: the next cut waits for one to end$/);
});
