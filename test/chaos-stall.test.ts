// The chaos harness's stall check (bench/chaos/stall.ts): a job counts as moving only on its own answers, and a stuck
// run names, per job, whether its queries failed or it answered the same thing all along.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressKey, StallWatch } from '../bench/chaos/stall';

const p = (succeeded: number, inFlight: number) =>
  progressKey({ phase: 'held', heldReason: 'waiting for room in the batch queue', requests: { succeeded }, batches: { inFlight } });

test('one job moving keeps the run alive while the other one answers nothing', () => {
  const w = new StallWatch(2, 300_000, 0);
  w.observe([p(10, 28), p(10, 27)], 1_000);
  for (let t = 2_000; t <= 400_000; t += 2_000) w.observe([p(t, 28), new Error('no worker answered')], t);
  assert.equal(w.stuck(400_000), undefined);
});

test('a stall says which job stopped answering and which answered the same thing', () => {
  const w = new StallWatch(2, 300_000, 0);
  w.observe([p(10, 28), p(10, 27)], 1_000);
  for (let t = 2_000; t <= 302_000; t += 2_000) w.observe([new Error('query timed out'), p(10, 27)], t);
  assert.equal(w.stuck(300_000), undefined, 'not yet: the stall time has not passed');
  const stuck = w.stuck(302_000);
  assert.ok(stuck, 'stuck after 300 s without a move');
  const [one, two] = stuck.split('\n');
  assert.match(one!, /^job 1: queries failing for 301\.0 s \(query timed out\); last progress .*"succeeded":10/);
  assert.match(two!, /^job 2: answering, unchanged for 301\.0 s; last progress .*"inFlight":27/);
});

test('an answer that changes after failures is a move', () => {
  const w = new StallWatch(1, 300_000, 0);
  w.observe([p(10, 28)], 1_000);
  w.observe([new Error('down')], 200_000);
  w.observe([p(20, 20)], 250_000);
  assert.equal(w.stuck(500_000), undefined);
  assert.ok(w.stuck(551_000));
});
