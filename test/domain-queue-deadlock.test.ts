// A job can hold spare requests but no batch (granted 121 requests and 1 batch, it sent a retry shard of 21):
// the scheduler must still grant it batches, or the job waits forever for room (seen in `npm run chaos`, seed 2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planQueue, QueueCapacitySchema, type QueueMember } from '../src/domain/queue';

test('a job that wants batches but no more requests is granted the batches', () => {
  const job: QueueMember = {
    jobId: 'j',
    priority: 5,
    arrival: 0,
    held: { requests: 221, batches: 0 },
    want: { requests: 0, batches: 3 },
    minRequests: 21,
    paused: false,
  };
  const { grants, preemptions } = planQueue([job], QueueCapacitySchema.parse({}));
  assert.equal(grants.length, 1);
  assert.equal(grants[0]!.jobId, 'j');
  assert.ok(grants[0]!.room.batches >= 1, `granted ${JSON.stringify(grants[0]!.room)}: at least one batch`);
  assert.deepEqual(preemptions, []);
});
