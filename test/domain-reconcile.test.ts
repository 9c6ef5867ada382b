// The reconciliation rules over random interleavings of intents, creates, lost answers, late claims, slow lists and
// cancels: a submission adopts only its own batch, never creates a second one, and in the end every submission holds
// exactly its own batch. The API is modelled by its documented behaviour: a call's batch is created within the SDK's
// timeout of the call or never, the list shows it within listLagMs, a cancel ends a batch after a delay, and a
// healthy create writes its claim within claimGraceMs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decideReconcile, SubmissionTimingSchema, type Candidate } from '../src/domain/reconcile';

const timing = SubmissionTimingSchema.parse({ createTimeoutMs: 10_000, listLagMs: 3_000, claimGraceMs: 15_000, skewMs: 2_000, recheckMs: 1_000 });
const CANCEL_END_MS = 4_000;

type CallFate = 'answered' | 'lostAfter' | 'lostBefore' | 'lateClaim';
interface Batch {
  id: string;
  owner: number;
  createdAtMs: number;
  visibleAtMs: number;
  endsAtMs: number;
  claim?: number;
  cancelAtMs?: number;
}
interface Sub {
  state: 'idle' | 'pending' | 'claiming' | 'recorded';
  callAtMs: number;
  batchId?: string;
  claimAtMs?: number;
}

const callArb: fc.Arbitrary<CallSpec> = fc.record({
  fate: fc.constantFrom<CallFate>('answered', 'lostAfter', 'lostBefore', 'lateClaim'),
  delayMs: fc.integer({ min: 0, max: timing.createTimeoutMs }),
  lagMs: fc.integer({ min: 0, max: timing.listLagMs }),
  claimDelayMs: fc.integer({ min: 0, max: timing.claimGraceMs - 1 }),
  runMs: fc.integer({ min: 1_000, max: 120_000 }),
});
const eventArb: fc.Arbitrary<SimEvent> = fc.oneof(
  fc.record({ kind: fc.constant('submit' as const), sub: fc.nat(3), call: callArb }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 20_000 }) }),
);

interface CallSpec {
  fate: CallFate;
  delayMs: number;
  lagMs: number;
  claimDelayMs: number;
  runMs: number;
}
type SimEvent = { kind: 'submit'; sub: number; call: CallSpec } | { kind: 'tick'; ms: number };

function simulate(subCount: number, events: readonly SimEvent[], drainCalls: readonly CallSpec[]) {
  let now = 1_000_000;
  let nextId = 0;
  const batches: Batch[] = [];
  const subs: Sub[] = Array.from({ length: subCount }, () => ({ state: 'idle', callAtMs: 0 }));
  const me = (i: number) => ({ jobId: `job-${i % 2}`, shardKey: `s00000${i}` });
  let drainIndex = 0;

  const call = (i: number, c: CallSpec) => {
    const sub = subs[i]!;
    sub.callAtMs = now;
    if (c.fate === 'lostBefore') {
      sub.state = 'pending';
      return;
    }
    const createdAtMs = now + (c.fate === 'lostAfter' ? c.delayMs : 0);
    const b: Batch = { id: `b${nextId++}`, owner: i, createdAtMs, visibleAtMs: createdAtMs + c.lagMs, endsAtMs: createdAtMs + c.runMs };
    batches.push(b);
    assert.equal(batches.filter((x) => x.owner === i).length, 1, `submission ${i} created a second batch`);
    if (c.fate === 'answered') {
      b.claim = i;
      sub.state = 'recorded';
      sub.batchId = b.id;
    } else if (c.fate === 'lateClaim') {
      sub.state = 'claiming';
      sub.batchId = b.id;
      sub.claimAtMs = createdAtMs + c.claimDelayMs;
    } else {
      sub.state = 'pending';
    }
  };
  const advance = (ms: number) => {
    now += ms;
    subs.forEach((s, i) => {
      if (s.state === 'claiming' && now >= s.claimAtMs!) {
        const b = batches.find((x) => x.id === s.batchId)!;
        assert.ok(b.claim === undefined || b.claim === i, 'a healthy create found its batch claimed for another');
        b.claim = i;
        s.state = 'recorded';
      }
    });
  };
  const ended = (b: Batch) => now >= Math.min(b.endsAtMs, b.cancelAtMs === undefined ? Infinity : b.cancelAtMs + CANCEL_END_MS);
  const firstSeen = new Map<string, number>(); // `${sub}/${batch}` → when that submission first saw it
  const reconcile = (i: number) => {
    const sub = subs[i]!;
    const candidates: Candidate[] = batches
      .filter((b) => now >= b.visibleAtMs && b.createdAtMs >= sub.callAtMs - timing.skewMs)
      .map((b) => ({
        batchId: b.id,
        createdAtMs: b.createdAtMs,
        seenForMs: now - (firstSeen.get(`${i}/${b.id}`) ?? (firstSeen.set(`${i}/${b.id}`, now), now)),
        ended: ended(b),
        cancelRequested: b.cancelAtMs !== undefined,
        ...(b.claim !== undefined && { claim: me(b.claim) }),
        ...(b.claim === undefined && ended(b) && { holds: me(b.owner) }),
      }));
    const d = decideReconcile(me(i), sub.callAtMs, now, candidates, timing);
    for (const f of d.fileFor) {
      const b = batches.find((x) => x.id === f.batchId)!;
      assert.deepEqual(f.owner, me(b.owner), 'a batch is filed for the submission whose requests it holds');
      b.claim ??= b.owner;
    }
    for (const id of d.cancel) {
      const b = batches.find((x) => x.id === id)!;
      assert.equal(b.claim, undefined, 'only unclaimed batches are canceled');
      assert.notEqual(subs[b.owner]!.state, 'claiming', 'a healthy create that may still claim is never canceled');
      b.cancelAtMs = now;
    }
    if (d.kind === 'adopt') {
      const b = batches.find((x) => x.id === d.batchId)!;
      assert.equal(b.owner, i, `submission ${i} adopted batch ${b.id} of submission ${b.owner}`);
      b.claim = i;
      sub.state = 'recorded';
      sub.batchId = b.id;
    } else if (d.kind === 'create') {
      // The API fails only so often: after the drawn calls, calls are answered.
      call(i, drainCalls[drainIndex++] ?? { fate: 'answered', delayMs: 0, lagMs: 0, claimDelayMs: 0, runMs: 1_000 });
    }
  };

  for (const e of events) {
    if (e.kind === 'tick') {
      advance(e.ms);
      continue;
    }
    const i = e.sub % subCount;
    if (subs[i]!.state === 'idle') call(i, e.call);
    else if (subs[i]!.state === 'pending') reconcile(i);
  }
  // Drain: every pending submission keeps reconciling, as Temporal retries it, until all are recorded.
  for (let step = 0; step < 2_000 && subs.some((s) => s.state !== 'recorded'); step++) {
    advance(timing.recheckMs);
    subs.forEach((s, i) => {
      if (s.state === 'idle') call(i, { fate: 'answered', delayMs: 0, lagMs: 0, claimDelayMs: 0, runMs: 1_000 });
      else if (s.state === 'pending') reconcile(i);
    });
  }
  return { subs, batches };
}

test('reconciliation adopts only its own batch, never creates twice, and settles every submission', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.array(eventArb, { maxLength: 60 }), fc.array(callArb, { minLength: 1, maxLength: 5 }), (n, events, drain) => {
      const { subs, batches } = simulate(n, events, drain);
      assert.ok(subs.every((s) => s.state === 'recorded'), 'every submission ends with its batch');
      assert.equal(batches.length, n, 'one batch per submission, none paid twice');
      subs.forEach((s, i) => assert.equal(batches.find((b) => b.id === s.batchId)!.owner, i));
    }),
    { numRuns: 400 },
  );
});

test('a lost create with nothing visible yet waits for the list instead of creating again', () => {
  const me = { jobId: 'j', shardKey: 's000000' };
  const d = decideReconcile(me, 1_000, 1_000 + timing.createTimeoutMs, [], timing);
  assert.equal(d.kind, 'wait');
  assert.equal(decideReconcile(me, 1_000, 1_000 + timing.createTimeoutMs + timing.listLagMs, [], timing).kind, 'create');
});

test('two unclaimed candidates past the grace are both canceled, and neither is adopted by guess', () => {
  const me = { jobId: 'j', shardKey: 's000000' };
  const now = 100_000;
  const c = (id: string): Candidate => ({ batchId: id, createdAtMs: now - timing.claimGraceMs, seenForMs: timing.claimGraceMs, ended: false });
  const d = decideReconcile(me, now - timing.claimGraceMs - 1, now, [c('a'), c('b')], timing);
  assert.equal(d.kind, 'wait');
  assert.deepEqual(d.cancel, ['a', 'b']);
  const young = decideReconcile(me, now - 1_000, now, [{ batchId: 'y', createdAtMs: now - 500, seenForMs: 500, ended: false }], timing);
  assert.deepEqual([young.kind, young.cancel], ['wait', []], 'a young batch may still be claimed by its healthy owner');
});

test('the create timeout must stay below the submit activity start-to-close', () => {
  assert.throws(() => SubmissionTimingSchema.parse({ createTimeoutMs: 600_000 }), /createTimeoutMs must be at least 5 s below/);
});
