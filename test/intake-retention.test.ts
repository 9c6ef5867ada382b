// The store-backed intake's retention on the real dev server and the emulator: a custom_id stays a duplicate until
// its records pass the intake's retention, then its record, body and buffer chunk are deleted (and it may be sent
// anew); requests still within retention keep theirs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { enqueue, flushIntake, intakeStatus, type IntakeRequest, type IntakeTarget } from '../src/client/intake';
import { SWEEP_LISTS_PER_CALL } from '../src/contracts/activities';
import { intakeKeys } from '../src/contracts/store-keys';
import { intakeWorkflowId } from '../src/contracts/workflow-ids';
import type { IntakeOptionsInput } from '../src/domain/intake';
import { seedSweepBacklog } from './helpers/intake-backlog';
import { FAST_EMULATOR, startStack, type TestStack } from './helpers/stack';

/** Bulk waits 1.3 s at most; records are kept 1 s, which the floor (twice the longest SLA) makes 7.2 s. */
const OPTIONS: IntakeOptionsInput = {
  cutLeadMs: 200,
  retentionMs: 1_000,
  tiers: { standard: { slaMs: 3_600, windowMs: 1_000, marginMs: 200 }, bulk: { slaMs: 3_000, windowMs: 1_000, marginMs: 200 } },
  job: { poll: { initialMs: 150, growth: 1.3, capMs: 400 } },
};
const request = (id: string): IntakeRequest => ({
  custom_id: id,
  tier: 'bulk',
  params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: `Question ${id}` }] },
});

let stack: TestStack;
let worker: Worker;
let running: Promise<void>;
before(async () => {
  stack = await startStack(FAST_EMULATOR);
  worker = await stack.startWorker();
  running = worker.run();
});
after(async () => {
  worker.shutdown();
  await running;
  await stack.close();
});

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got !== undefined && got !== false) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('records, bodies and chunks are deleted once past retention, and only then is a custom_id accepted again', { timeout: 180_000 }, async () => {
  const t: IntakeTarget = { client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, intake: 'ret', options: OPTIONS };
  const record = (id: string) => intakeKeys.requestRecord('ret', id);
  assert.deepEqual((await enqueue(t, [request('old-1'), request('old-2')])).map((a) => a.status), ['accepted', 'accepted']);
  await flushIntake(stack.env.client, 'ret');
  await until('the first two done', async () => (await intakeStatus(stack.env.client, 'ret')).counters.succeeded === 2);
  const [firstSegment] = await stack.store.list(intakeKeys.segment('ret', 'x').replace(/x\.jsonl$/, ''));
  assert.ok(firstSegment, 'the first call wrote its bodies');
  const firstChunks = await stack.store.list('intakes/ret/buffer/');
  assert.ok(firstChunks.length > 0);

  // Within retention (the floor of 7.2 s has not passed): still a duplicate, everything still there. Spent chunks
  // are listed for the sweep a second after they were spent, at the intake's next turn (this call is one).
  await new Promise((r) => setTimeout(r, 1_200));
  assert.equal((await enqueue(t, [request('old-1')]))[0]!.status, 'duplicate');
  assert.ok(await stack.store.exists(record('old-1')));

  // Past it: the next chunks listed start a sweep, which takes the first ones.
  await new Promise((r) => setTimeout(r, 7_500));
  assert.equal((await enqueue(t, [request('new-1')]))[0]!.status, 'accepted');
  await flushIntake(stack.env.client, 'ret');
  await until('new-1 done', async () => (await intakeStatus(stack.env.client, 'ret')).counters.succeeded === 3);
  await new Promise((r) => setTimeout(r, 1_200));
  assert.equal((await enqueue(t, [request('new-1')]))[0]!.status, 'duplicate');
  await until('the sweep of the first records', async () => !(await stack.store.exists(record('old-2'))), 90_000);
  assert.equal(await stack.store.exists(record('old-1')), false);
  assert.equal(await stack.store.exists(firstSegment), false, 'the first call’s bodies are deleted');
  for (const key of firstChunks) assert.equal(await stack.store.exists(key), false, `${key} is deleted`);
  assert.ok(await stack.store.exists(record('new-1')), 'a request within retention keeps its record');
  assert.equal((await enqueue(t, [request('new-1')]))[0]!.status, 'duplicate');
  assert.equal((await enqueue(t, [request('old-1')]))[0]!.status, 'accepted', 'past retention, the custom_id is new again');
});

test('a sweep backlog larger than one sweep call is swept over the intake’s turns, in bounded calls, and the intake goes on cutting', { timeout: 180_000 }, async () => {
  const name = 'backlog';
  const lists = SWEEP_LISTS_PER_CALL + 4;
  const backlog = await seedSweepBacklog(stack.store, name, lists);
  const t: IntakeTarget = { client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, intake: name, options: OPTIONS };
  assert.equal((await enqueue(t, [request('b-1')]))[0]!.status, 'accepted');
  await flushIntake(stack.env.client, name);
  await until('b-1 done', async () => (await intakeStatus(stack.env.client, name)).counters.succeeded === 1);
  // Its chunk is listed at the next turn a second on (this call is one), which starts the sweep of the backlog.
  await new Promise((r) => setTimeout(r, 1_200));
  assert.equal((await enqueue(t, [request('b-1')]))[0]!.status, 'duplicate');
  await until('the backlog swept', async () => (await stack.store.list(intakeKeys.retiredLists(name))).every((k) => !backlog.listKeys.includes(k)), 90_000);
  for (const key of [...backlog.records, ...backlog.segments]) assert.equal(await stack.store.exists(key), false, `${key} is deleted`);
  assert.ok(await stack.store.exists(intakeKeys.requestRecord(name, 'b-1')), 'a request within retention keeps its record');

  // More than one call, each with a heartbeat timeout; and the intake still cuts: a request sent now is cut and done.
  const history = await stack.env.client.workflow.getHandle(intakeWorkflowId(name)).fetchHistory();
  const sweeps = (history.events ?? []).flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    return a?.activityType?.name === 'sweepIntake' ? [a] : [];
  });
  assert.ok(sweeps.length >= 2, `${sweeps.length} sweep calls`);
  for (const a of sweeps) assert.ok(a.heartbeatTimeout, 'each call has a heartbeat timeout');
  assert.equal((await enqueue(t, [request('b-2')]))[0]!.status, 'accepted');
  await flushIntake(stack.env.client, name);
  await until('b-2 done', async () => (await intakeStatus(stack.env.client, name)).counters.succeeded === 2);
});
