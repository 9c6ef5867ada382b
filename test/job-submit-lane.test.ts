// The job's submit lane on its own (no server): the picks are created a few at a time while the caller goes on,
// each shard is out (in `submitting`) until its create answers, and a fatal answer stops what has not started.
// Both lanes: the async loop of runs before the submit-lane-by-callbacks patch, and the callbacks of runs after it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ShardRef } from '../src/domain/job';
import { initialJobState } from '../src/workflows/job-state';
import type { JobState } from '../src/workflows/job-state';
import { submitLane, submitLaneByCallbacks, type SubmitLane } from '../src/workflows/job-submit-lane';

const shards = (n: number): ShardRef[] => Array.from({ length: n }, (_, i) => ({ key: `s${String(i).padStart(6, '0')}`, requests: 100 }));

/** Creates that answer when the test says so, in any order; `recorded` lists the answers the lane took. */
function controlledCreates() {
  const pending = new Map<string, { resolve: (batchId: string) => void; reject: (e: Error) => void }>();
  const started: string[] = [];
  const recorded: string[] = [];
  const create = (shard: ShardRef) =>
    new Promise<string>((resolve, reject) => {
      started.push(shard.key);
      pending.set(shard.key, { resolve, reject });
    });
  const created = (shard: ShardRef, batchId: string) => void recorded.push(`${shard.key}:${batchId}`);
  return {
    started,
    recorded,
    create,
    created,
    submitOne: async (shard: ShardRef) => created(shard, await create(shard)),
    running: () => [...pending.keys()],
    answer(key: string, err?: Error) {
      const p = pending.get(key)!;
      pending.delete(key);
      if (err) p.reject(err);
      else p.resolve(`batch-${key}`);
    },
  };
}

type Creates = ReturnType<typeof controlledCreates>;
const lanes: Record<string, (s: JobState, concurrency: number, c: Creates, wake: () => void) => SubmitLane> = {
  'the submit lane': (s, n, c, wake) => submitLane(s, n, c.submitOne, wake),
  'the submit lane by callbacks': (s, n, c, wake) => submitLaneByCallbacks(s, n, c.create, c.created, wake),
};

const settle = () => new Promise((r) => setImmediate(r));

for (const [name, laneOf] of Object.entries(lanes)) describe(name, () => {
  test('creates at most `concurrency` at once, in order, and returns at once to the loop', async () => {
    const s = initialJobState(0, 500, 5);
    const creates = controlledCreates();
    let wakes = 0;
    const lane = laneOf(s, 2, creates, () => wakes++);
    lane.enqueue(shards(5));
    await settle();
    assert.deepEqual(creates.running(), ['s000000', 's000001']);
    assert.equal(s.submitting?.length, 5, 'every pick is out until its create answers');
    assert.equal(lane.idle(), false);

    creates.answer('s000001');
    await settle();
    assert.deepEqual(creates.running(), ['s000000', 's000002'], 'a lane that finishes takes the next pick');
    assert.deepEqual(s.submitting?.map((x) => x.key), ['s000000', 's000002', 's000003', 's000004']);

    lane.enqueue(shards(7).slice(5)); // room freed by collects: more picks join the queue
    for (const key of ['s000000', 's000002', 's000003', 's000004', 's000005', 's000006']) {
      await settle();
      creates.answer(key);
    }
    await settle();
    assert.deepEqual(creates.started, shards(7).map((x) => x.key));
    assert.deepEqual(
      creates.recorded,
      ['s000001', 's000000', 's000002', 's000003', 's000004', 's000005', 's000006'].map((k) => `${k}:batch-${k}`),
      'each answer is recorded once, as it comes',
    );
    assert.deepEqual(s.submitting, []);
    assert.equal(lane.idle(), true);
    assert.equal(wakes, 1, 'the loop is woken once, when the lane goes idle');
    lane.throwIfFailed();
  });

  test('a fatal answer drops what has not started, and is thrown once the running creates answer', async () => {
    const s = initialJobState(0, 600, 5);
    const creates = controlledCreates();
    const lane = laneOf(s, 2, creates, () => undefined);
    lane.enqueue(shards(6));
    await settle();
    creates.answer('s000000', new Error('invalid x-api-key'));
    await settle();
    assert.deepEqual(creates.running(), ['s000001'], 'no create starts after the fatal answer');
    assert.deepEqual(s.submitting?.map((x) => x.key), ['s000001']);
    assert.doesNotThrow(() => lane.throwIfFailed(), 'not while a create may still make a batch');
    creates.answer('s000001');
    await settle();
    assert.throws(() => lane.throwIfFailed(), /invalid x-api-key/);
    assert.deepEqual(creates.recorded, ['s000001:batch-s000001'], 'the batch the running create made is recorded');
    assert.deepEqual(s.submitting, []);
    lane.enqueue(shards(8).slice(6));
    await settle();
    assert.deepEqual(creates.running(), [], 'a failed lane sends nothing more');
  });

  test('a cancel drops what waits; the creates already running still answer', async () => {
    const s = initialJobState(0, 400, 5);
    const creates = controlledCreates();
    let wakes = 0;
    const lane = laneOf(s, 1, creates, () => wakes++);
    lane.enqueue(shards(4));
    await settle();
    lane.dropWaiting();
    assert.deepEqual(s.submitting?.map((x) => x.key), ['s000000']);
    assert.equal(wakes, 0, 'not idle while the running create has not answered');
    creates.answer('s000000');
    await settle();
    assert.equal(lane.idle(), true);
    assert.equal(wakes, 1, 'woken once, when the running create answered');
    assert.deepEqual(creates.started, ['s000000']);
    assert.deepEqual(creates.recorded, ['s000000:batch-s000000'], 'the running create\'s batch is recorded');
  });
});

describe('the submit lane by callbacks', () => {
  test('a create that throws before it starts is a failure of the lane, as a rejected one is', async () => {
    const s = initialJobState(0, 300, 5);
    let wakes = 0;
    const createCalls: string[] = [];
    const created: string[] = [];
    const lane = submitLaneByCallbacks(
      s,
      2,
      (shard: ShardRef) => {
        createCalls.push(shard.key);
        if (shard.key === 's000000') throw new Error('bad options');
        return Promise.resolve(`batch-${shard.key}`);
      },
      (shard, batchId) => void created.push(`${shard.key}:${batchId}`),
      () => wakes++,
    );
    lane.enqueue(shards(3));
    await settle();
    assert.deepEqual(createCalls, ['s000000', 's000001'], 'the two the concurrency starts; the third is dropped unsent');
    assert.deepEqual(created, ['s000001:batch-s000001'], 'the create that started beside the throw is recorded');
    assert.throws(() => lane.throwIfFailed(), /bad options/);
    assert.deepEqual(s.submitting, []);
    assert.equal(lane.idle(), true);
    assert.equal(wakes, 1, 'woken once, when both creates have answered');
  });
});
