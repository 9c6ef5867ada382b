// Continuous intake on the real dev server and the emulator, with tier windows compressed to seconds.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { enqueue, intakeRequest, intakeResults, intakeStatus, type IntakeRequest, type IntakeTarget } from '../src/client/intake';
import type { IntakeOptionsInput } from '../src/domain/intake';
import { waitForAnswer } from './fixtures/answer-waiter';
import { FAST_EMULATOR, startStack, type TestStack } from './helpers/stack';
import { uniqueTaskQueue } from './helpers/temporal';
import { workerProcesses } from './helpers/worker-processes';

/** standard: due 6 s after enqueue, cut by 2.5 s; bulk: due 60 s after, cut by 14.5 s. */
const OPTIONS: IntakeOptionsInput = {
  checkEveryMs: 200,
  cutLeadMs: 500,
  tiers: {
    standard: { slaMs: 6_000, windowMs: 2_000, marginMs: 1_000 },
    bulk: { slaMs: 60_000, windowMs: 40_000, marginMs: 5_000 },
  },
  job: { poll: { initialMs: 150, growth: 1.3, capMs: 400 } },
};
const request = (id: string, tier?: IntakeRequest['tier']): IntakeRequest => ({
  custom_id: id,
  tier,
  params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: `Question ${id}` }] },
});

const stacks: TestStack[] = [];
const stopAll: (() => Promise<void>)[] = [];
after(async () => {
  for (const stop of stopAll) await stop();
  for (const s of stacks) await s.close();
});

async function setUp(name: string, options: IntakeOptionsInput = OPTIONS) {
  const stack = await startStack(FAST_EMULATOR);
  stacks.push(stack);
  const worker = await stack.startWorker();
  const running = worker.run();
  stopAll.push(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  const target: IntakeTarget = { client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, intake: name, options };
  return { stack, target };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('100 requests enqueued one by one leave as exactly one sub-batch, cut on size', async () => {
  const { stack, target } = await setUp('by-size');
  for (let i = 0; i < 100; i++) {
    const [answer] = await enqueue(target, [request(`q-${i}`)]);
    assert.equal(answer?.status, 'accepted');
  }
  await until('all 100 done', async () => (await intakeStatus(stack.env.client, 'by-size')).counters.succeeded === 100);
  const status = await intakeStatus(stack.env.client, 'by-size');
  assert.equal(status.cuts, 1);
  assert.equal(status.fillRate, 1);
  assert.deepEqual(stack.emulator.stats().createLog.map((c) => c.requestCount), [100]);
  const results = [];
  for await (const r of intakeResults(stack.env.client, stack.store, 'by-size')) results.push(r);
  assert.equal(results.length, 100);
});

test('7 standard requests are cut by the window timer and answered before their deadline', async () => {
  const { stack, target } = await setUp('by-window');
  const started = Date.now();
  await enqueue(target, Array.from({ length: 7 }, (_, i) => request(`s-${i}`, 'standard')));
  const cutAt = await until('the cut', async () => (await intakeStatus(stack.env.client, 'by-window')).cuts === 1 && Date.now());
  assert.ok(cutAt - started >= 2_000, `it waited ${cutAt - started} ms for company, until its cut time`);
  const done = await until('the 7 to be done', async () => {
    const r = await intakeRequest(stack.env.client, stack.store, 'by-window', 's-6');
    return r.outcome;
  });
  const finishedAt = Date.now();
  assert.deepEqual(stack.emulator.stats().createLog.map((c) => c.requestCount), [7], 'one sub-batch of 7, not waiting for 100');
  assert.ok(finishedAt - started < 6_000, `answered ${finishedAt - started} ms after enqueue, within the 6 s SLA`);
  assert.equal(done.status, 'succeeded');
});

test('an urgent request is answered synchronously while bulk ones wait', async () => {
  const { stack, target } = await setUp('tiers');
  await enqueue(target, [request('b-1', 'bulk'), request('b-2', 'bulk'), request('u-1', 'urgent'), request('b-3', 'bulk')]);
  const urgent = await until('the urgent answer', async () => (await intakeRequest(stack.env.client, stack.store, 'tiers', 'u-1')).outcome);
  assert.equal(urgent.status, 'succeeded');
  assert.equal(urgent.mode, 'sync');
  const status = await intakeStatus(stack.env.client, 'tiers');
  assert.equal(status.depthByTier.bulk, 3, 'the bulk requests still wait for company');
  assert.equal(stack.emulator.stats().calls.create, 0);
  assert.deepEqual((await intakeRequest(stack.env.client, stack.store, 'tiers', 'b-1')).state, 'buffered');
});

test('a retried enqueue is accepted once; a full queue refuses with a clear error', async () => {
  const { stack, target } = await setUp('dedup', { ...OPTIONS, maxBuffered: 3 });
  assert.equal((await enqueue(target, [request('same')]))[0]?.status, 'accepted');
  const again = await enqueue(target, [request('same')]);
  assert.equal(again[0]?.status, 'duplicate');
  assert.match(again[0].reason!, /^already accepted \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: buffered \(bulk\)$/, 'it names the first request\'s state');
  const answers = await enqueue(target, [request('a'), request('b'), request('c')]);
  assert.deepEqual(answers.map((a) => a.status), ['accepted', 'accepted', 'refused']);
  assert.match(answers[2]!.reason!, /queue full: 3 requests are waiting/);
  await assert.rejects(enqueue(target, [request('d')]), /queue full/);
  const invalid = await enqueue(target, [{ custom_id: 'bad', params: { max_tokens: 5 } }]);
  assert.equal(invalid[0]?.status, 'invalid');
  assert.match(invalid[0].reason!, /params\.messages: is required/);
  assert.equal((await intakeStatus(stack.env.client, 'dedup')).counters.enqueued, 3);
});

test('a waiting workflow receives its completion signal', async () => {
  const { stack, target } = await setUp('notify');
  const waiterQueue = uniqueTaskQueue('waiter');
  const waiter = await Worker.create({
    connection: stack.env.nativeConnection,
    taskQueue: waiterQueue,
    workflowsPath: require.resolve('./fixtures/answer-waiter'),
  });
  const answer = await waiter.runUntil(async () => {
    const handle = await stack.env.client.workflow.start(waitForAnswer, { taskQueue: waiterQueue, workflowId: `waiter-${waiterQueue}` });
    await enqueue(target, [{ ...request('wanted', 'standard'), notifyWorkflowId: handle.workflowId }]);
    return handle.result();
  });
  assert.equal(answer.custom_id, 'wanted');
  assert.equal(answer.status, 'succeeded');
  assert.match(answer.jobId, /^sluice-intake-notify-/);
});

test('the intake survives a worker SIGKILL with nothing lost', async () => {
  const stack = await startStack(FAST_EMULATOR);
  stacks.push(stack);
  const workers = await workerProcesses(stack);
  stopAll.push(() => workers.killAll());
  const first = await workers.start();
  const target: IntakeTarget = { client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, intake: 'kill', options: OPTIONS };
  await enqueue(target, Array.from({ length: 150 }, (_, i) => request(`k-${i}`)));
  await enqueue(target, Array.from({ length: 20 }, (_, i) => request(`ks-${i}`, 'standard')));
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  await workers.start();
  await until('all 170 done', async () => {
    const st = await intakeStatus(stack.env.client, 'kill');
    return st.counters.succeeded === 170 && st.depthByTier.bulk === 0 ? st : undefined;
  }, 150_000); // a worker killed mid-activity is retried after that activity's timeout (30 s to 1 min)
  const results = [];
  for await (const r of intakeResults(stack.env.client, stack.store, 'kill')) results.push(r);
  assert.equal(new Set(results.map((r) => r.custom_id)).size, 170);
  assert.ok(Object.values(stack.emulator.stats().submissions).every((s) => s.batch + s.sync === 1), 'nothing sent twice');
});
