import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_POLL_OPTIONS, PollOptionsSchema } from '../src/domain/poll';
import {
  afterWalk,
  applyReport,
  applyWatch,
  atRiskToTell,
  expireMembers,
  initialAccountPoll,
  initialPollerState,
  memberExpiryMs,
  nextWalkAtMs,
  pollerSilent,
  refreshEveryMs,
  registered,
  registrationDue,
  silenceLimitMs,
  silenceLimitWithFloorMs,
  SILENCE_FLOOR_MS,
  takeEnded,
  waitWhileServed,
  watchedBatches,
} from '../src/workflows/poller-decisions';

const poll = DEFAULT_POLL_OPTIONS; // 30 s, ×1.5, 5 min
const fast = PollOptionsSchema.parse({ initialMs: 1_000, growth: 2, capMs: 4_000 });
const batches = (job: string, n: number, atMs = 0) =>
  Array.from({ length: n }, (_, i) => ({ batchId: `${job}-b${i}`, submittedAtMs: atMs + i }));

describe('the poller: who is watched and when it walks', () => {
  it('serves every job with one walk: the watched set is the union, each batch once', () => {
    const st = initialPollerState();
    for (let j = 0; j < 50; j++) applyWatch(st, { jobId: `job${j}`, batches: batches(`job${j}`, 20), poll }, 0);
    applyWatch(st, { jobId: 'twin', batches: batches('job0', 20), poll }, 0);
    assert.equal(watchedBatches(st).length, 1_000);
    assert.equal(nextWalkAtMs(st), 30_000);
  });

  it('walks at the fastest cadence any job needs', () => {
    const st = initialPollerState();
    applyWatch(st, { jobId: 'slow', batches: batches('slow', 2), poll }, 0);
    applyWatch(st, { jobId: 'fast', batches: batches('fast', 2), poll: fast }, 10_000);
    assert.equal(nextWalkAtMs(st), 11_000);
  });

  it("grows each job's interval by its own rule while nothing of it ends, and resets it when something does", () => {
    const st = initialPollerState();
    applyWatch(st, { jobId: 'a', batches: batches('a', 3), poll: fast }, 0);
    applyWatch(st, { jobId: 'b', batches: batches('b', 3), poll: fast }, 0);
    const due: number[] = [];
    let now = 1_000;
    for (let i = 0; i < 4; i++) {
      afterWalk(st, { ended: [], calls: 1 }, 6, now);
      now = nextWalkAtMs(st)!;
      due.push(now);
    }
    assert.deepEqual(due, [3_000, 7_000, 11_000, 15_000], 'doubling from 1 s, capped at 4 s');
    afterWalk(st, { ended: [{ batchId: 'a-b0', resultsUrl: 'u' }], calls: 1 }, 6, now);
    assert.equal(st.members.find((m) => m.jobId === 'a')!.intervalMs, 1_000);
    assert.equal(st.members.find((m) => m.jobId === 'b')!.intervalMs, 4_000);
  });

  it('tells each job only what of its own ended, drops those batches, and answers a registration once', () => {
    const st = initialPollerState();
    applyWatch(st, { jobId: 'a', batches: batches('a', 2), poll }, 0);
    applyWatch(st, { jobId: 'b', batches: batches('b', 2), poll }, 0);
    const first = afterWalk(st, { ended: [{ batchId: 'a-b1', resultsUrl: 'https://x/a-b1' }], calls: 1 }, 4, 30_000);
    assert.deepEqual(first, [
      { jobId: 'a', report: { ended: [{ batchId: 'a-b1', resultsUrl: 'https://x/a-b1' }], walkedAtMs: 30_000 } },
      { jobId: 'b', report: { ended: [], walkedAtMs: 30_000 } },
    ]);
    assert.deepEqual(watchedBatches(st).map((b) => b.batchId), ['a-b0', 'b-b0', 'b-b1']);
    assert.deepEqual(afterWalk(st, { ended: [], calls: 1 }, 3, 60_000), [], 'nothing new, no registration: no report');
    const last = afterWalk(st, { ended: [{ batchId: 'a-b0' }, { batchId: 'b-b0' }, { batchId: 'b-b1' }], calls: 1 }, 3, 90_000);
    assert.equal(last.length, 2);
    assert.equal(st.members.length, 0, 'a job with nothing left leaves');
    assert.equal(nextWalkAtMs(st), undefined);
    assert.deepEqual(st.stats, { walks: 3, calls: 3, maxCallsPerWalk: 1, maxWatched: 4, reports: 4 });
  });

  it('takes a registration as the whole set: twice the same changes nothing; an empty set leaves', () => {
    const st = initialPollerState();
    applyWatch(st, { jobId: 'a', batches: batches('a', 3), poll }, 0);
    const once = structuredClone(st);
    applyWatch(st, { jobId: 'a', batches: batches('a', 3), poll }, 0);
    assert.deepEqual(st, once);
    applyWatch(st, { jobId: 'a', batches: batches('a', 1), poll }, 5_000);
    assert.equal(watchedBatches(st).length, 1);
    applyWatch(st, { jobId: 'a', batches: [], poll }, 6_000);
    assert.equal(st.members.length, 0);
  });

  it('drops jobs that stop refreshing', () => {
    const st = initialPollerState();
    applyWatch(st, { jobId: 'gone', batches: batches('gone', 1), poll: fast }, 0);
    applyWatch(st, { jobId: 'here', batches: batches('here', 1), poll: fast }, 0);
    applyWatch(st, { jobId: 'here', batches: batches('here', 1), poll: fast }, 20_000);
    assert.deepEqual(expireMembers(st, memberExpiryMs(fast) + 1), ['gone']);
    assert.deepEqual(st.members.map((m) => m.jobId), ['here']);
  });

  it('keeps its timings in order: a refresh is answered well before a job gives up, a job expires after that', () => {
    for (const p of [poll, fast]) {
      // A live poller answers a refresh at its next walk, at most capMs later.
      assert.ok(refreshEveryMs(p) + p.capMs < silenceLimitMs(p));
      assert.ok(silenceLimitMs(p) < memberExpiryMs(p));
    }
  });
});

describe("the job's side: when it registers, what it takes, when it stops trusting the poller", () => {
  const job = (created: number, inFlight = 1) => ({ batchesCreated: created, inFlight: Array.from({ length: inFlight }) });

  it('asks once whether the poller serves it; off means never again', () => {
    const a = initialAccountPoll();
    assert.equal(registrationDue(a, job(1), 0, poll), true);
    a.decided = true;
    assert.equal(registrationDue(a, job(2), 0, poll), false, 'no poller: the job polls on its own');
  });

  it('tells a change of its SLA state with a registration, once; a job without an SLA never', () => {
    const a = { ...initialAccountPoll(), decided: true, pollerId: 'p' };
    assert.equal(atRiskToTell(a, undefined), false, 'no SLA');
    assert.equal(atRiskToTell(a, false), false, 'not at risk, and nothing told yet: the gauge reads 0 already');
    assert.equal(atRiskToTell(a, true), true);
    assert.equal(atRiskToTell({ ...a, toldAtRisk: true }, true), false, 'told already');
    assert.equal(atRiskToTell({ ...a, toldAtRisk: true }, false), true, 'no longer at risk');
    assert.equal(atRiskToTell({ ...a, pollerId: undefined }, true), false, 'polling alone: its poll tells it');
  });

  it('registers again for a new batch, and every refresh; never with nothing in flight', () => {
    const a = { ...initialAccountPoll(), decided: true, pollerId: 'p', registeredAtMs: 0, registeredCreated: 3 };
    assert.equal(registrationDue(a, job(3), 1_000, poll), false);
    assert.equal(registrationDue(a, job(4), 1_000, poll), true);
    assert.equal(registrationDue(a, job(3), refreshEveryMs(poll), poll), true);
    assert.equal(registrationDue(a, job(4, 0), refreshEveryMs(poll), poll), false);
  });

  it('keeps each reported batch once and hands over only those still in flight', () => {
    const a = initialAccountPoll();
    applyReport(a, { ended: [{ batchId: 'x', resultsUrl: 'u' }, { batchId: 'y' }], walkedAtMs: 5 });
    applyReport(a, { ended: [{ batchId: 'x', resultsUrl: 'u' }], walkedAtMs: 6 });
    assert.deepEqual(takeEnded(a, [{ batchId: 'x' }, { batchId: 'z' }]), [{ batchId: 'x', resultsUrl: 'u' }]);
    assert.deepEqual(a.ended, []);
  });

  it('stops trusting a poller that leaves a registration unanswered past the limit', () => {
    const a = initialAccountPoll();
    registered(a, 0, 1, 'p');
    registered(a, refreshEveryMs(poll), 1, 'p');
    assert.equal(pollerSilent(a, silenceLimitMs(poll), poll), false);
    assert.equal(pollerSilent(a, silenceLimitMs(poll) + 1, poll), true, 'counted from the first unanswered one');
    applyReport(a, { ended: [], walkedAtMs: 1 });
    assert.equal(pollerSilent(a, 10 * silenceLimitMs(poll), poll), false, 'answered');
  });

  it('with the floor, gives a slow but live poller at least SILENCE_FLOOR_MS, and a slow cadence its 10 × capMs', () => {
    const a = initialAccountPoll();
    registered(a, 0, 1, 'p');
    const quick = { initialMs: 250, growth: 1.5, capMs: 1_000 };
    assert.equal(pollerSilent(a, 10 * quick.capMs + 1, quick, true), false, 'a walk cycle of 10 s on a loaded worker is not desertion');
    assert.equal(pollerSilent(a, SILENCE_FLOOR_MS + 1, quick, true), true);
    assert.equal(pollerSilent(a, 10 * quick.capMs + 1, quick), true, 'without the floor (runs from before it)');
    assert.equal(silenceLimitWithFloorMs(poll), Math.max(silenceLimitMs(poll), SILENCE_FLOOR_MS));
    assert.equal(silenceLimitWithFloorMs(DEFAULT_POLL_OPTIONS), 10 * DEFAULT_POLL_OPTIONS.capMs, 'default cadence: unchanged');
  });

  it('takes the job its own floor when it names one (poll.silenceFloorMs)', () => {
    const a = initialAccountPoll();
    registered(a, 0, 1, 'p');
    const short = { initialMs: 250, growth: 1.5, capMs: 1_000, silenceFloorMs: 3_000 };
    assert.equal(silenceLimitWithFloorMs(short), 10 * short.capMs, 'never below ten intervals at the cap');
    assert.equal(pollerSilent(a, 10 * short.capMs + 1, short, true), true);
    const long = { ...short, silenceFloorMs: 60_000 };
    assert.equal(pollerSilent(a, SILENCE_FLOOR_MS + 1, long, true), false, 'a longer floor waits longer');
    assert.equal(pollerSilent(a, 60_001, long, true), true);
  });

  it('is not misled by its own busy time: nothing sent, nothing to answer', () => {
    const a = initialAccountPoll();
    registered(a, 0, 1, 'p');
    applyReport(a, { ended: [], walkedAtMs: 1 });
    assert.equal(pollerSilent(a, 100 * silenceLimitMs(poll), poll), false);
  });

  it('never calls a poller silent when the worker turned it off', () => {
    const a = initialAccountPoll();
    registered(a, 0, 1, undefined);
    assert.equal(pollerSilent(a, 100 * silenceLimitMs(poll), poll), false);
  });

  it('waits for the next refresh instead of the next poll while served, unless an SLA decision is due sooner', () => {
    const a = initialAccountPoll();
    registered(a, 1_000, 1, 'p');
    assert.equal(waitWhileServed(30_000, 30_000, a, 2_000, poll), 1_000 + refreshEveryMs(poll) - 2_000);
    assert.equal(waitWhileServed(5_000, 30_000, a, 2_000, poll), 5_000, 'shortened for the SLA: kept');
    assert.equal(waitWhileServed(30_000, 30_000, a, 1_000 + refreshEveryMs(poll), poll), 30_000, 'refresh due: the plain wait');
  });
});
