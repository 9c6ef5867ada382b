import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planQueue, QueueCapacitySchema, type QueueMember } from '../src/domain/queue';
import {
  expiredMembers,
  expireAfterMs,
  memberAfterAsk,
  nextExpiryAtMs,
  QueueRefreshSchema,
  rebuildUntilMs,
  refreshDue,
  untilRefreshMs,
  type MemberAsk,
} from '../src/domain/queue-membership';

const cap = QueueCapacitySchema.parse({ maxRequests: 300, maxBatches: 10 });
const ask = (over: Partial<MemberAsk> = {}): MemberAsk => ({
  jobId: 'a',
  priority: 5,
  target: { requests: 300, batches: 3 },
  minRequests: 100,
  paused: false,
  ...over,
});

test('a scheduler that does not know a job (restarted) takes its held room from the refresh and grants only the rest', () => {
  const m = memberAfterAsk(undefined, ask({ held: { requests: 200, batches: 2 }, grantSeq: 4, expireAfterMs: 3_000 }), 0, 1_000);
  assert.deepEqual(m.held, { requests: 200, batches: 2 });
  assert.deepEqual(m.want, { requests: 100, batches: 1 });
  assert.equal(m.grantSeq, 4);
  // Another job waiting for the whole queue gets only what the refreshing job does not hold.
  const other = memberAfterAsk(undefined, ask({ jobId: 'b', target: { requests: 300, batches: 3 } }), 1, 1_000);
  const { grants } = planQueue([m, other], cap);
  assert.deepEqual(grants, [{ jobId: 'a', room: { requests: 100, batches: 1 } }]);
});

test('a refresh that crosses a grant on its way keeps the scheduler count; one that saw every grant replaces it', () => {
  const known: QueueMember = {
    ...memberAfterAsk(undefined, ask({ held: { requests: 0, batches: 0 }, grantSeq: 0 }), 0, 0),
    held: { requests: 300, batches: 3 },
    grantSeq: 2,
  };
  // The job has seen one grant of two: its held misses the second one, so the scheduler's 300 stands.
  const crossed = memberAfterAsk(known, ask({ held: { requests: 100, batches: 1 }, grantSeq: 1 }), 9, 10);
  assert.deepEqual(crossed.held, { requests: 300, batches: 3 });
  assert.deepEqual(crossed.want, { requests: 0, batches: 0 });
  // It has seen both and one batch ended (its release lost): the job's own count wins.
  const seen = memberAfterAsk(known, ask({ held: { requests: 200, batches: 2 }, grantSeq: 2 }), 9, 10);
  assert.deepEqual(seen.held, { requests: 200, batches: 2 });
  assert.deepEqual(seen.want, { requests: 100, batches: 1 });
  assert.equal(seen.arrival, 0, 'the arrival order stays the first one');
});

test('a request without held (a run from before refreshes) keeps the old rule and never expires', () => {
  const known: QueueMember = { ...memberAfterAsk(undefined, ask(), 0, 0), held: { requests: 100, batches: 1 } };
  const next = memberAfterAsk(known, ask({ target: { requests: 250, batches: 3 } }), 1, 50);
  assert.deepEqual(next.held, { requests: 100, batches: 1 });
  assert.deepEqual(next.want, { requests: 150, batches: 2 });
  assert.equal(next.expireAfterMs, undefined);
  assert.deepEqual(expiredMembers([next], Number.MAX_SAFE_INTEGER), []);
  assert.equal(nextExpiryAtMs([next]), undefined);
});

test('members that stop refreshing expire at their last request plus their expiry, the first one first', () => {
  const a = memberAfterAsk(undefined, ask({ held: { requests: 100, batches: 1 }, expireAfterMs: 3_000 }), 0, 1_000);
  const b = memberAfterAsk(undefined, ask({ jobId: 'b', held: { requests: 0, batches: 0 }, expireAfterMs: 3_000 }), 1, 2_500);
  assert.equal(nextExpiryAtMs([a, b]), 4_000);
  assert.deepEqual(expiredMembers([a, b], 3_999), []);
  assert.deepEqual(expiredMembers([a, b], 4_000), ['a']);
  assert.deepEqual(expiredMembers([a, b], 5_500), ['a', 'b']);
  // A refresh moves the expiry on.
  const refreshed = memberAfterAsk(a, ask({ held: { requests: 100, batches: 1 }, expireAfterMs: 3_000 }), 5, 3_900);
  assert.deepEqual(expiredMembers([refreshed], 4_000), []);
});

test('refresh timing: due after refreshMs, the wait cut to the time left, never below 1 ms', () => {
  assert.equal(refreshDue(undefined, 60_000, 0), true);
  assert.equal(refreshDue(1_000, 60_000, 60_999), false);
  assert.equal(refreshDue(1_000, 60_000, 61_000), true);
  assert.equal(untilRefreshMs(1_000, 60_000, 31_000), 30_000);
  assert.equal(untilRefreshMs(1_000, 60_000, 90_000), 1);
});

test('settings: refresh every 60 s and expire after 3 missed refreshes unless told; nonsense refused', () => {
  const r = QueueRefreshSchema.parse({});
  assert.deepEqual(r, { refreshMs: 60_000, missedRefreshes: 3 });
  assert.equal(expireAfterMs(r), 180_000);
  assert.equal(expireAfterMs(QueueRefreshSchema.parse({ refreshMs: 500, missedRefreshes: 2 })), 1_000);
  assert.throws(() => QueueRefreshSchema.parse({ refreshMs: 10 }));
  assert.throws(() => QueueRefreshSchema.parse({ missedRefreshes: 0 }));
});

test('a scheduler that meets a returning job it does not know waits one and a half refresh periods before granting, once', () => {
  const back = ask({ held: { requests: 0, batches: 0 }, rejoin: true, refreshMs: 1_000 });
  assert.equal(rebuildUntilMs(false, back, 10_000, undefined), 11_500, 'lost its members: wait for the holders to refresh');
  assert.equal(rebuildUntilMs(true, back, 10_000, undefined), undefined, 'a job it knows is no sign of a restart');
  assert.equal(rebuildUntilMs(false, { ...back, rejoin: undefined }, 10_000, undefined), undefined, "a job's first ask is not either");
  assert.equal(rebuildUntilMs(false, { ...back, refreshMs: undefined }, 10_000, undefined), undefined, 'a run from before refreshes');
  assert.equal(rebuildUntilMs(false, back, 20_000, 11_500), 11_500, 'set once per run');
});
