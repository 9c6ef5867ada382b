import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planQueue, QueueCapacitySchema, type QueueMember } from '../src/domain/queue';

const cap = QueueCapacitySchema.parse({ maxRequests: 1_000, maxBatches: 10 });
const member = (jobId: string, over: Partial<QueueMember> = {}): QueueMember => ({
  jobId,
  priority: 5,
  arrival: 0,
  held: { requests: 0, batches: 0 },
  want: { requests: 0, batches: 0 },
  minRequests: 100,
  paused: false,
  ...over,
});

test('room goes by priority, then earliest deadline, then arrival', () => {
  const { grants } = planQueue(
    [
      member('late', { arrival: 1, want: { requests: 400, batches: 4 } }),
      member('urgent', { priority: 1, arrival: 3, want: { requests: 400, batches: 4 } }),
      member('deadline', { arrival: 2, deadlineMs: 1_000, want: { requests: 400, batches: 4 } }),
    ],
    cap,
  );
  assert.deepEqual(
    grants.map((g) => [g.jobId, g.room.requests]),
    [['urgent', 400], ['deadline', 400], ['late', 200]],
  );
});

test('an urgent job that cannot get all it wants makes less urgent holders step aside', () => {
  const members = [
    member('low', { priority: 5, held: { requests: 900, batches: 9 }, want: { requests: 500, batches: 5 } }),
    member('high', { priority: 1, arrival: 1, want: { requests: 300, batches: 3 } }),
  ];
  const { grants, preemptions } = planQueue(members, cap);
  assert.deepEqual(grants, [{ jobId: 'high', room: { requests: 100, batches: 1 } }], 'the free sub-batch goes to high');
  assert.deepEqual(preemptions, [{ jobId: 'low', by: 'high', cancelRequests: 0 }]);
});

test('with cancel mode the preempted job is asked to cancel as many requests as the urgent one needs', () => {
  const members = [
    member('low', { held: { requests: 1_000, batches: 10 }, preempt: 'cancel', want: { requests: 100, batches: 1 } }),
    member('high', { priority: 1, want: { requests: 300, batches: 3 } }),
  ];
  assert.deepEqual(planQueue(members, cap).preemptions, [{ jobId: 'low', by: 'high', cancelRequests: 300 }]);
  const told = planQueue([{ ...members[0]!, preemptedBy: 'high' }, members[1]!], cap);
  assert.deepEqual(told.preemptions, [], 'a job already told is not told again');
});

test('equal priority never preempts; paused jobs get nothing', () => {
  const members = [
    member('a', { held: { requests: 1_000, batches: 10 } }),
    member('b', { arrival: 1, want: { requests: 100, batches: 1 } }),
    member('p', { priority: 1, paused: true, want: { requests: 100, batches: 1 } }),
  ];
  const plan = planQueue(members, cap);
  assert.deepEqual(plan, { grants: [], preemptions: [] });
});

test('a job holding all the requests it needs still gets the batches it lacks, even with the queue full', () => {
  const members = [member('j', { held: { requests: 1_000, batches: 2 }, want: { requests: 0, batches: 2 } })];
  assert.deepEqual(planQueue(members, cap).grants, [{ jobId: 'j', room: { requests: 0, batches: 2 } }]);
});
