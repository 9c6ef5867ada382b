// The job workflow's decisions on states built here, without a server: what is submitted and where, when retries
// are packed, which batches are canceled, how long the job waits, when it stops and when it continues as new.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JobOptionsSchema, type JobOptionsInput, type ShardRef } from '../src/domain/job';
import type { CollectResult } from '../src/contracts/activities';
import { emptyTally } from '../src/domain/cost';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import * as decide from '../src/workflows/job-decisions';
import { initialJobState, type InFlightBatch, type JobState } from '../src/workflows/job-state';
import { applyCollected, dropUnsent, retriesPacked, takeShard } from '../src/workflows/job-transitions';
import { canaryVerdict } from '../src/workflows/job-canary';

const NOW = 1_800_000_000_000;
const options = (o: JobOptionsInput = {}) => JobOptionsSchema.parse({ batchSize: 100, ...o });

/** A running job of `shards` original shards of `size` requests, nothing sent yet. */
function running(shards: number, size = 100, patch: Partial<JobState> = {}): JobState {
  const s = initialJobState(NOW - 60_000, shards * size, 5);
  s.phase = 'running';
  s.shardSizes = Array.from({ length: shards }, () => size);
  return Object.assign(s, patch);
}

const batch = (id: string, requests: number, submittedAtMs: number, extra: Partial<InFlightBatch> = {}): InFlightBatch => ({
  batchId: id,
  shardKey: `s-${id}`,
  requests,
  submittedAtMs,
  ...extra,
});
const keys = (shards: ShardRef[]) => shards.map((x) => x.key);
const granted = (s: JobState, requests: number, batches: number) => {
  s.seat.grant = { requests, batches };
  return s;
};

describe('what to submit, and where', () => {
  test('retry shards go before the original ones, in order', () => {
    const s = running(5, 100, { nextShard: 3, queued: [{ key: 'r001-000000', requests: 40 }] });
    assert.deepEqual(keys(decide.nextShards(s, 10)), ['r001-000000', 's000003', 's000004']);
    assert.deepEqual(keys(decide.nextShards(s, 2)), ['r001-000000', 's000003']);
  });

  test('by batch: as many as the room granted by the scheduler, the rest waits and the job says why', () => {
    const s = granted(running(5), 250, 10);
    const plan = decide.planSubmissions(s, NOW, options());
    assert.equal(plan.route, 'batch');
    assert.deepEqual(keys(plan.picks), ['s000000', 's000001'], 'room for 250 requests holds two sub-batches of 100');
    assert.equal(plan.candidates.length, 5);
    assert.equal(plan.blocked, true);
    assert.equal(decide.heldReasonOf(plan.blocked, s.seat, true), 'waiting for room in the batch queue');
  });

  test('a paused or preempted job submits nothing, whatever room it holds', () => {
    const paused = granted(running(3), 1_000, 10);
    paused.seat.paused = true;
    const plan = decide.planSubmissions(paused, NOW, options());
    assert.deepEqual(plan.picks, []);
    assert.equal(decide.heldReasonOf(plan.blocked, paused.seat, true), 'paused');

    const preempted = granted(running(3), 1_000, 10);
    preempted.seat.pendingPreempt = { by: 'urgent-job', cancelRequests: 0 };
    preempted.seat.preemptedBy = 'urgent-job';
    assert.deepEqual(decide.planSubmissions(preempted, NOW, options()).picks, []);
    assert.equal(decide.heldReasonOf(true, preempted.seat, true), 'preempted by urgent-job');
  });

  test('without the scheduler: up to the job own limit of batches in flight', () => {
    const s = running(6, 100, { inFlight: [batch('a', 100, NOW)] });
    const plan = decide.planSubmissions(s, NOW, options({ useScheduler: false, maxBatchesInFlight: 3 }));
    assert.deepEqual(keys(plan.picks), ['s000000', 's000001']);
    assert.equal(plan.blocked, false);
    assert.equal(decide.heldReasonOf(plan.blocked, s.seat, false), undefined);
  });

  test('past the latest batch submission: synchronous, as many sub-batches as may run at once', () => {
    const o = options({ sla: { deadlineMs: NOW + 60_000, windowMs: 40_000, marginMs: 30_000, maxSyncShardsInFlight: 2 } });
    const s = running(4, 100, { syncInFlight: [{ key: 's000009', requests: 100 }] });
    const plan = decide.planSubmissions(s, NOW, o);
    assert.equal(plan.route, 'sync');
    assert.deepEqual(keys(plan.picks), ['s000000'], 'one more beside the one already running');
  });

  test('past it without fallback: every shard is reported sla_missed at once', () => {
    const o = options({ sla: { deadlineMs: NOW + 60_000, windowMs: 40_000, marginMs: 30_000, syncFallback: false } });
    const plan = decide.planSubmissions(running(4), NOW, o);
    assert.equal(plan.route, 'sla_missed');
    assert.equal(plan.picks.length, 4);
  });

  test('a one-request job goes synchronous; room is asked for what is in flight plus what could go next', () => {
    assert.equal(decide.planSubmissions(running(1, 1), NOW, options()).route, 'sync');
    const s = running(4, 100, { nextShard: 1, inFlight: [batch('a', 100, NOW)] });
    const wanted = decide.roomWanted(s, options({ maxBatchesInFlight: 3 }));
    assert.deepEqual(wanted.inFlight, { requests: 100, batches: 1 });
    assert.deepEqual(keys(wanted.next), ['s000001', 's000002']);
  });

  test('labels in the Web UI count sub-batches from 1', () => {
    assert.equal(decide.submissionLabel({ key: 's000004', requests: 3 }, 10), 'sub-batch 5/10');
    assert.equal(decide.submissionLabel({ key: 'r002-000001', requests: 3 }, 10), 'retry r002-000001');
  });
});

describe('when retries are packed', () => {
  const o = options({ batchSize: 100 });
  test('not while fewer than a sub-batch wait and other work is left', () => {
    const s = running(5, 100, { nextShard: 2, pendingRetryRequests: 30, pendingRetryBatchIds: ['b1'] });
    assert.equal(decide.retriesDue(s, NOW, o), false);
    assert.equal(decide.retriesDue({ ...s, pendingRetryRequests: 0 }, NOW, o), false);
  });
  test('once a full sub-batch of them waits', () => {
    assert.equal(decide.retriesDue(running(5, 100, { nextShard: 2, pendingRetryRequests: 100 }), NOW, o), true);
  });
  test('once nothing else is left to send', () => {
    assert.equal(decide.retriesDue(running(5, 100, { nextShard: 5, pendingRetryRequests: 3 }), NOW, o), true);
  });
  test('once they can no longer go by batch (every minute counts)', () => {
    const late = options({ batchSize: 100, sla: { deadlineMs: NOW + 60_000, windowMs: 40_000, marginMs: 30_000 } });
    assert.equal(decide.retriesDue(running(5, 100, { nextShard: 2, pendingRetryRequests: 3 }), NOW, late), true);
  });
  test('packed retries are queued first and the pending count starts again', () => {
    const s = running(5, 100, { pendingRetryRequests: 7, pendingRetryBatchIds: ['b1', 'b2'] });
    retriesPacked(s, [{ key: 'r001-000000', requests: 7 }]);
    assert.deepEqual([s.pendingRetryRequests, s.pendingRetryBatchIds, keys(decide.nextShards(s, 1))], [0, [], ['r001-000000']]);
    takeShard(s, { key: 'r001-000000', requests: 7 });
    assert.deepEqual([s.queued, s.nextShard], [[], 0], 'a retry shard taken leaves the cursor where it was');
  });
});

describe('what to cancel', () => {
  test('preemption victims: the youngest batches until enough requests are freed, never a straggler twice', () => {
    const inFlight = [
      batch('old', 100, NOW - 5_000),
      batch('mid', 100, NOW - 3_000),
      batch('young', 50, NOW - 1_000),
      batch('gone', 100, NOW, { straggler: true }),
      batch('taken', 100, NOW, { preempted: true }),
    ];
    assert.deepEqual(decide.preemptionVictims(inFlight, 120).map((b) => b.batchId), ['young', 'mid']);
    assert.deepEqual(decide.preemptionVictims(inFlight, 50).map((b) => b.batchId), ['young']);
    assert.deepEqual(decide.preemptionVictims(inFlight, 0), [], 'a preemption in stop mode cancels nothing');
  });

  test('stepping aside: when told to, or when paused while holding room', () => {
    const s = running(2);
    assert.equal(decide.mustStepAside(s.seat), false);
    s.seat.paused = true;
    assert.equal(decide.mustStepAside(s.seat), false, 'paused with nothing granted: nothing to give back');
    s.seat.grant = { requests: 100, batches: 1 };
    assert.equal(decide.mustStepAside(s.seat), true);
    assert.equal(decide.mustStepAside({ ...running(2).seat, pendingPreempt: { by: 'x', cancelRequests: 0 } }), true);
  });

  test('stragglers: batches that only the synchronous API can still finish in time', () => {
    // 100 requests at 8 at once and 1 s each take 13 s synchronously: with 10 s left, the batch is a straggler.
    const sla = { deadlineMs: NOW + 10_000, windowMs: 1_000, marginMs: 1_000, syncRequestMs: 1_000 };
    const s = running(2, 100, { inFlight: [batch('big', 100, NOW - 1_000), batch('small', 8, NOW - 1_000), batch('done', 100, NOW, { straggler: true })] });
    assert.deepEqual(decide.stragglersToCancel(s, NOW, options({ sla })).map((b) => b.batchId), ['big']);
    assert.deepEqual(decide.stragglersToCancel({ ...s, cancelRequested: true }, NOW, options({ sla })), [], 'a canceled job cancels all anyway');
    assert.deepEqual(decide.stragglersToCancel(s, NOW, options({ sla: { ...sla, syncFallback: false } })), [], 'nowhere to send them');
  });

  test('a cancel: due while running, and everything not yet sent is dropped', () => {
    const s = running(5, 100, { nextShard: 2, queued: [{ key: 'r001-000000', requests: 3 }], pendingRetryRequests: 4, cancelRequested: true });
    assert.equal(decide.cancelDue(s), true);
    dropUnsent(s);
    assert.deepEqual([s.nextShard, s.queued, s.pendingRetryRequests, decide.hasWorkLeft(s)], [5, [], 0, false]);
    s.phase = 'canceling';
    assert.equal(decide.cancelDue(s), false, 'carried out once');
  });
});

describe('how long to wait, when to stop, when to continue as new', () => {
  const o = options({ poll: { initialMs: 1_000, growth: 2, capMs: 5_000 } });
  test('the poll interval grows while nothing moves and starts again after progress', () => {
    const s = running(2, 100, { inFlight: [batch('a', 100, NOW)] });
    assert.equal(decide.planWait(s, NOW, o).timeoutMs, 1_000);
    s.pollIntervalMs = decide.intervalAfterPoll(false, 1_000);
    assert.equal(decide.planWait(s, NOW, o).timeoutMs, 2_000);
    s.pollIntervalMs = 4_000;
    assert.equal(decide.planWait(s, NOW, o).timeoutMs, 5_000, 'capped');
    assert.equal(decide.intervalAfterPoll(true, 5_000), undefined);
    assert.equal(decide.planWait(s, NOW, o).summary, 'wait before polling 1 batches');
  });

  test('it wakes for the latest batch submission even when the interval is longer', () => {
    const sla = { deadlineMs: NOW + 10_000, windowMs: 4_000, marginMs: 1_000 };
    const s = running(2, 100, { inFlight: [batch('a', 100, NOW)], pollIntervalMs: 60_000 });
    assert.equal(decide.planWait(s, NOW, options({ poll: { initialMs: 1_000, growth: 2, capMs: 60_000 }, sla })).timeoutMs, 5_000);
  });

  test('held with nothing out, it looks again each minute; a canceled job waits no longer than its grace', () => {
    assert.equal(decide.planWait(running(2), NOW, o).timeoutMs, decide.HELD_RECHECK_MS);
    assert.equal(decide.planWait(running(2), NOW, o).summary, 'wait for room in the batch queue');
    const canceling = running(2, 100, { phase: 'canceling', canceledAtMs: NOW - 1_000, inFlight: [batch('a', 100, NOW)] });
    assert.equal(decide.planWait(canceling, NOW, options({ ...o, cancelGraceMs: 1_500 })).timeoutMs, 500);
  });

  test('it stops when nothing is out and nothing is left, or when the cancel grace is over', () => {
    assert.equal(decide.stopReason(running(2, 100, { nextShard: 2 }), NOW, o), 'nothing-left');
    assert.equal(decide.stopReason(running(2), NOW, o), undefined, 'held: work left to send');
    assert.equal(decide.stopReason(running(2, 100, { nextShard: 2, syncInFlight: [{ key: 's000001', requests: 100 }] }), NOW, o), undefined);
    const canceling = running(2, 100, { phase: 'canceling', canceledAtMs: NOW - 10_000, inFlight: [batch('a', 100, NOW)] });
    assert.equal(decide.stopReason(canceling, NOW, options({ cancelGraceMs: 5_000 })), 'cancel-grace-over');
    assert.equal(decide.stopReason(canceling, NOW, options({ cancelGraceMs: 50_000 })), undefined);
    assert.equal(decide.stopReason({ ...canceling, inFlight: [] }, NOW, o), 'nothing-left', 'a canceled job sends nothing more');
  });

  test('it is finished once every request has an outcome, sla_missed ones included, and no batch is out', () => {
    const s = running(2, 100, { nextShard: 2, succeeded: 150, failed: 10, canceled: 10 });
    assert.equal(decide.isFinished(s), false);
    s.slaMissed = 30;
    assert.equal(decide.isFinished(s), true);
    assert.equal(decide.isFinished({ ...s, inFlight: [batch('a', 1, NOW)] }), false);
    assert.equal(decide.isFinished({ ...s, phase: 'planning' }), false);
  });

  test('collected retries wait to be packed; outcomes add up', () => {
    const s = running(1);
    const r: CollectResult = { succeeded: 90, failed: 2, canceled: 0, retry: 8, tally: emptyTally(), reasons: { overloaded_error: 8 } };
    applyCollected(s, r, 'b1');
    applyCollected(s, { ...r, retry: 0, reasons: { overloaded_error: 1 } }, 'b2');
    assert.deepEqual([s.succeeded, s.failed, s.pendingRetryRequests, s.pendingRetryBatchIds, s.reasons], [180, 4, 8, ['b1'], { overloaded_error: 9 }]);
  });

  test('it continues as new when the server suggests it or past maxHistoryEvents', () => {
    const limit = options({ maxHistoryEvents: 1_000 });
    assert.equal(decide.continueAsNewDue({ continueAsNewSuggested: false, historyLength: 1_000 }, limit), false);
    assert.equal(decide.continueAsNewDue({ continueAsNewSuggested: false, historyLength: 1_001 }, limit), true);
    assert.equal(decide.continueAsNewDue({ continueAsNewSuggested: true, historyLength: 10 }, limit), true);
  });

  test('the next action shown: why it waits, else what it waits for', () => {
    assert.equal(decide.nextActionText(running(1, 100, { heldReason: 'paused' })), 'wait: paused');
    assert.equal(decide.nextActionText(running(1, 100, { inFlight: [batch('a', 1, NOW)] })), 'poll 1 batches');
    assert.equal(decide.nextActionText(running(1, 100, { syncInFlight: [{ key: 's000000', requests: 1 }] })), 'finish 1 synchronous sub-batches');
  });
});

describe('which activity failures stop the job (it then writes what it has)', () => {
  const failure = (retryState: RetryState, cause: Error) => new ActivityFailure('failed', 'collectBatch', '7', retryState, 'worker', cause);
  test('a fatal API answer, an activity out of attempts, and one that must never be retried', () => {
    assert.equal(decide.fatalFailureMessage(failure(RetryState.NON_RETRYABLE_FAILURE, ApplicationFailure.nonRetryable('bad key', 'Auth'))), 'bad key');
    assert.match(
      decide.fatalFailureMessage(failure(RetryState.MAXIMUM_ATTEMPTS_REACHED, ApplicationFailure.retryable('store down', 'StoreError'))) ?? '',
      /^collectBatch gave up \(maximum attempts reached\): store down$/,
    );
    assert.match(
      decide.fatalFailureMessage(failure(RetryState.NON_RETRYABLE_FAILURE, ApplicationFailure.retryable('Nothing is stored at jobs/x', 'BlobNotFoundError'))) ?? '',
      /non retryable failure.*Nothing is stored/,
    );
  });
  test('anything else fails the workflow task rather than the job', () => {
    assert.equal(decide.fatalFailureMessage(new Error('a bug')), undefined);
    assert.equal(decide.fatalFailureMessage(failure(RetryState.CANCEL_REQUESTED, ApplicationFailure.retryable('x'))), undefined);
  });
});

describe('creates under way in the submit lane count as out', () => {
  const creating = (...keys: string[]): ShardRef[] => keys.map((key) => ({ key, requests: 100 }));

  test('they count against the batches in flight and the room the job holds', () => {
    const s = running(6, 100, { nextShard: 3, inFlight: [batch('a', 100, NOW)], submitting: creating('s000001', 's000002') });
    const plan = decide.planSubmissions(s, NOW, options({ useScheduler: false, maxBatchesInFlight: 4 }));
    assert.deepEqual(keys(plan.picks), ['s000003'], 'one in flight and two being created leave room for one');
    assert.equal(decide.batchesOut(s), 3);
    const wanted = decide.roomWanted(s, options({ maxBatchesInFlight: 4 }));
    assert.deepEqual(wanted.inFlight, { requests: 300, batches: 3 });
    assert.deepEqual(keys(wanted.next), ['s000003']);
  });

  test('the job neither stops nor finishes while a create has not answered, and polls only what is in flight', () => {
    const s = running(2, 100, { nextShard: 2, succeeded: 100, submitting: creating('s000001') });
    s.requestCount = 100; // even with every known request done, the shard being created is still out
    assert.equal(decide.isFinished(s), false);
    assert.equal(decide.stopReason(s, NOW, options()), undefined);
    assert.equal(decide.pollDue(s), false, 'nothing to poll until the create answers');
    const wait = decide.planWait(s, NOW, options({ poll: { initialMs: 250, growth: 1.5, capMs: 1_000 } }));
    assert.equal(wait.timeoutMs, 250, 'the poll cadence, not the held recheck');
    assert.equal(wait.summary, 'wait while 1 batches are created');
    s.submitting = [];
    assert.equal(decide.stopReason(s, NOW, options()), 'nothing-left');
    s.inFlight = [batch('b', 100, NOW)];
    assert.equal(decide.pollDue(s), true);
  });

  test('a canary has no verdict while its shard is being created', () => {
    const s = running(3, 100, { nextShard: 1, submitting: creating('s000000') });
    s.canary = { state: 'running', requests: 100, failed: 0, allowed: 10, maxFailurePercent: 10 };
    assert.equal(canaryVerdict(s), undefined);
    s.submitting = [];
    assert.equal(canaryVerdict(s)?.state, 'passed');
  });
});
