// The store-backed intake on the real dev server and the emulator: its continue-as-new input at maxBuffered, dedup
// across continue-as-new and across a recreated intake, sub-batches that report back by signal, flush, and what
// `sluice enqueue` and `sluice intake status` tell a person.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { enqueue, flushIntake, intakeRequest, intakeStatus, type IntakeRequest, type IntakeTarget } from '../src/client/intake';
import { subBatchDoneSignal } from '../src/contracts/messages';
import { intakeKeys } from '../src/contracts/store-keys';
import { intakeWorkflowId } from '../src/contracts/workflow-ids';
import type { IntakeOptionsInput } from '../src/domain/intake';
import { sluice } from './helpers/cli';
import { sendsByCustomId } from './helpers/wire';
import { FAST_EMULATOR, startStack, type TestStack } from './helpers/stack';

/** Bulk waits 50 s for company (nothing is cut unless asked); standard is cut 1 s after enqueue. */
const OPTIONS: IntakeOptionsInput = {
  cutLeadMs: 500,
  tiers: {
    standard: { slaMs: 8_000, windowMs: 4_000, marginMs: 2_500 },
    bulk: { slaMs: 120_000, windowMs: 60_000, marginMs: 10_000 },
  },
  job: { poll: { initialMs: 150, growth: 1.3, capMs: 400 } },
};
const request = (id: string, tier?: IntakeRequest['tier']): IntakeRequest => ({
  custom_id: id,
  tier,
  params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: `Question ${id}` }] },
});

let stack: TestStack;
let worker: Worker;
let running: Promise<void>;
let dir: string;
before(async () => {
  stack = await startStack(FAST_EMULATOR);
  worker = await stack.startWorker();
  running = worker.run();
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-intake-store-'));
});
after(async () => {
  worker.shutdown();
  await running;
  await stack.close();
});

const target = (intake: string, options: IntakeOptionsInput = OPTIONS): IntakeTarget => ({
  client: stack.env.client,
  store: stack.store,
  taskQueue: stack.taskQueue,
  intake,
  options,
});

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/**
 * Signals that name no job of the intake: events in its history, nothing else, until it continues as new. Sent a few
 * at a time, each few once the intake has taken the last ones, so a slow machine is not flooded.
 */
async function pushToContinueAsNew(intake: string, fromRun: number) {
  const handle = stack.env.client.workflow.getHandle(intakeWorkflowId(intake));
  // A query can fail while the workflow is busy (a slow task on a loaded machine): ask again.
  const run = () => intakeStatus(stack.env.client, intake).then((s) => s.run, () => fromRun);
  for (let i = 0; (await run()) === fromRun; i++) {
    for (let k = 0; k < 5; k++) await handle.signal(subBatchDoneSignal, { jobId: `not-a-job-${i}-${k}` });
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The input of the first run's continue-as-new, as bytes of its payload. */
async function continueAsNewInputBytes(intake: string): Promise<number[]> {
  const sizes: number[] = [];
  for await (const wf of stack.env.client.workflow.list({ query: `WorkflowId = "${intakeWorkflowId(intake)}"` })) {
    const history = await stack.env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const payloads = e.workflowExecutionContinuedAsNewEventAttributes?.input?.payloads ?? [];
      if (payloads.length) sizes.push(payloads.reduce((n, p) => n + (p.data?.length ?? 0), 0));
    }
  }
  return sizes;
}

test('at maxBuffered (10,000 waiting) the continue-as-new input stays under 256 KB, and the buffer survives it', { timeout: 300_000 }, async () => {
  const t = target('full', { ...OPTIONS, maxBuffered: 10_000, batchSize: 50_000, maxHistoryEvents: 500 });
  for (let bunch = 0; bunch < 20; bunch++) {
    const answers = await enqueue(t, Array.from({ length: 500 }, (_, i) => request(`f-${bunch}-${i}`, 'bulk')));
    assert.ok(answers.every((a) => a.status === 'accepted'));
  }
  const before = await intakeStatus(stack.env.client, 'full');
  assert.equal(before.depthByTier.bulk, 10_000);
  await assert.rejects(enqueue(t, [request('one-more')]), /queue full: 10000 requests are waiting/);
  await pushToContinueAsNew('full', before.run);
  const [bytes] = await continueAsNewInputBytes('full');
  assert.ok(bytes !== undefined, 'the intake continued as new');
  console.log(`continue-as-new input at 10,000 buffered: ${bytes} bytes`);
  assert.ok(bytes < 256 * 1024, `continue-as-new input is ${bytes} bytes`);
  const afterwards = await intakeStatus(stack.env.client, 'full');
  assert.equal(afterwards.run, before.run + 1);
  assert.equal(afterwards.depthByTier.bulk, 10_000, 'every buffered request is still there');
  assert.equal(afterwards.counters.enqueued, 10_000);
});

test('a custom_id is accepted once across continue-as-new and across a recreated intake, and its duplicate says where the first is', { timeout: 300_000 }, async () => {
  const t = target('once', { ...OPTIONS, maxHistoryEvents: 500 });
  const first = await enqueue(t, [request('d-1'), request('d-2'), request('d-3')]);
  assert.deepEqual(first.map((a) => a.status), ['accepted', 'accepted', 'accepted']);
  await pushToContinueAsNew('once', 1);

  const afterCan = await enqueue(t, [request('d-1'), request('d-4')]);
  assert.deepEqual(afterCan.map((a) => a.status), ['duplicate', 'accepted']);
  assert.match(afterCan[0]!.reason!, /already accepted .* UTC: buffered \(bulk\)$/);

  assert.equal((await flushIntake(stack.env.client, 'once')).requests, 4, 'flush answers once they are cut');
  const inJob = await enqueue(t, [request('d-2')]);
  assert.match(inJob[0]!.reason!, /: (in job|done in job) sluice-intake-once-/);
  const done = await until('d-1 done', async () => (await intakeRequest(stack.env.client, stack.store, 'once', 'd-1')).outcome);
  assert.equal(done.status, 'succeeded');
  await until('all 4 counted', async () => (await intakeStatus(stack.env.client, 'once')).counters.succeeded === 4);

  // The intake ends (an operator terminates it); the next enqueue creates it anew, with the same memory.
  await stack.env.client.workflow.getHandle(intakeWorkflowId('once')).terminate('recreate it');
  const again = await enqueue(t, [request('d-1'), request('d-5')]);
  assert.deepEqual(again.map((a) => a.status), ['duplicate', 'accepted']);
  assert.match(again[0]!.reason!, /: done in job sluice-intake-once-\w+-000001: succeeded$/);
  const status = await intakeStatus(stack.env.client, 'once');
  assert.equal(status.run, 1, 'a new intake');
  assert.equal(status.counters.enqueued, 1);
  const sends = await sendsByCustomId(stack.store, stack.emulator.stats());
  for (const id of ['d-1', 'd-2', 'd-3', 'd-4']) {
    assert.equal((sends[id]?.batch ?? 0) + (sends[id]?.sync ?? 0), 1, `${id} is sent exactly once`);
  }
});

test('deferred records: a request only in its chunk is a duplicate at once; its record is written while it waits, so an intake recreated before its cut still knows it', { timeout: 180_000 }, async () => {
  const t = target('deferred');
  const first = await enqueue(t, [request('w-1'), request('w-2')]);
  assert.deepEqual(first.map((a) => a.status), ['accepted', 'accepted']);
  // Right after: the record may not be written yet, the answer is a duplicate all the same.
  const again = await enqueue(t, [request('w-1')]);
  assert.equal(again[0]!.status, 'duplicate');
  assert.match(again[0]!.reason!, /buffered \(bulk\)$/);
  // Bulk waits 50 s to be cut: the records are written beside the loop long before.
  await until('the records', async () => (await stack.store.exists(intakeKeys.requestRecord('deferred', 'w-2'))) && (await stack.store.exists(intakeKeys.requestRecord('deferred', 'w-1'))));
  assert.equal((await intakeRequest(stack.env.client, stack.store, 'deferred', 'w-2')).state, 'buffered');
  await stack.env.client.workflow.getHandle(intakeWorkflowId('deferred')).terminate('recreate it before the cut');
  const recreated = await enqueue(t, [request('w-2'), request('w-3')]);
  assert.deepEqual(recreated.map((a) => a.status), ['duplicate', 'accepted']);
});

test('sub-batches report back (a subBatchDone update from each job): with describe an hour away, the intake still counts them at once; a job ended from outside is found by the fallback', { timeout: 180_000 }, async () => {
  const t = target('signals', { ...OPTIONS, silentCheckAfterMs: 3_600_000 });
  await enqueue(t, Array.from({ length: 5 }, (_, i) => request(`s-${i}`, 'standard')));
  const st = await until('the 5 counted', async () => {
    const s = await intakeStatus(stack.env.client, 'signals');
    return s.counters.succeeded === 5 && s;
  });
  assert.equal(st.jobsInFlight, 0);

  const fallback = target('fallback', { ...OPTIONS, silentCheckAfterMs: 2_000 });
  await enqueue(fallback, [request('lost-1')]);
  await flushIntake(stack.env.client, 'fallback');
  const jobId = await until('the cut', async () => {
    const r = await intakeRequest(stack.env.client, stack.store, 'fallback', 'lost-1');
    return r.jobId;
  });
  // Terminated before it can tell anyone: only describing it shows that it ended.
  await stack.env.client.workflow.getHandle(jobId).terminate('ended from outside');
  await until('the fallback to notice', async () => (await intakeStatus(stack.env.client, 'fallback')).jobsInFlight === 0, 30_000);
});

const env = () => ({
  TEMPORAL_ADDRESS: stack.env.address,
  SLUICE_TASK_QUEUE: stack.taskQueue,
  SLUICE_STORE_DIR: stack.storeDir,
  SLUICE_STATE_DIR: path.join(dir, 'state'),
});

test('sluice enqueue names each bad line and enqueues nothing; --skip-invalid enqueues the rest and writes the rejects', { timeout: 120_000 }, async () => {
  const file = path.join(dir, 'tickets.jsonl');
  const good = (id: string) => JSON.stringify(request(id));
  await writeFile(
    file,
    [
      good('t-1'),
      JSON.stringify({ params: request('x').params }),
      JSON.stringify({ ...request('t-3'), tier: 'soon' }),
      good('t-4'),
      good('t-1'),
    ].join('\n') + '\n',
  );
  const refused = await sluice(['enqueue', 'cli', file], env());
  assert.equal(refused.code, 2, refused.out);
  assert.match(refused.out, new RegExp(`${file}:2: custom_id: is required: the intake uses it as the idempotency key`));
  assert.match(refused.out, new RegExp(`${file}:3: tier: must be one of urgent, standard, bulk \\(got "soon"\\)`));
  assert.match(refused.out, new RegExp(`${file}:5: custom_id: duplicate custom_id "t-1", first used on line 1`));
  assert.match(refused.out, /Nothing was sent\./);
  await assert.rejects(stack.env.client.workflow.getHandle(intakeWorkflowId('cli')).describe(), WorkflowNotFoundError, 'no intake was even created');

  const rejects = path.join(dir, 'rejects.jsonl');
  const skipped = await sluice(['enqueue', 'cli', file, '--skip-invalid', '--rejects', rejects], env());
  assert.equal(skipped.code, 0, skipped.out);
  assert.match(skipped.out, new RegExp(`3 bad lines skipped, written to ${rejects}\\.`));
  assert.match(skipped.out, /^2 accepted\.$/m);
  const lines = (await readFile(rejects, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { line: number });
  assert.deepEqual(lines.map((l) => l.line), [2, 3, 5]);
  assert.equal((await intakeStatus(stack.env.client, 'cli')).depthByTier.bulk, 2);
});

test('sluice intake status says why the next cut waits; sluice intake flush sends now; sluice intake request says where one is', { timeout: 120_000 }, async () => {
  await enqueue(target('explained'), [request('e-1', 'bulk'), request('e-2', 'bulk')]);
  const status = await sluice(['intake', 'status', 'explained'], env());
  assert.equal(status.code, 0, status.out);
  assert.match(
    status.out,
    /bulk: 2 waiting; cut at 10000 requests \(one job of sub-batches of 100\) or at (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC, in [^(]+ \(the latest safe submission is (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\)/,
  );
  assert.match(status.out, /`sluice intake flush explained` sends everything waiting now/);
  const waiting = await sluice(['intake', 'request', 'explained', 'e-1'], env());
  assert.equal(waiting.code, 0, waiting.out);
  assert.match(waiting.out, /^Intake explained, e-1: buffered \(bulk\), waiting for its sub-batch$/m);
  const creates = stack.emulator.stats().createLog.length;
  const flushed = await sluice(['intake', 'flush', 'explained'], env());
  assert.equal(flushed.code, 0, flushed.out);
  assert.match(flushed.out, /Intake explained: 2 waiting requests are being cut into sub-batches now\./);
  await until('the 2 done', async () => (await intakeStatus(stack.env.client, 'explained')).counters.succeeded === 2);
  assert.ok(stack.emulator.stats().createLog.slice(creates).some((c) => c.requestCount === 2), 'one sub-batch of the 2, long before their cut time');
  // Answered from the request's record in the store, though the workflow keeps no ids.
  const done = await sluice(['intake', 'request', 'explained', 'e-2'], env());
  assert.match(done.out, /^Intake explained, e-2: done in job sluice-intake-explained-\S+: succeeded$/m);
  const never = await sluice(['intake', 'request', 'explained', 'e-9'], env());
  assert.match(never.out, /e-9: not known to this intake/);
  const empty = await sluice(['intake', 'status', 'explained'], env());
  assert.match(empty.out, /nothing waits/);
});

test('eight enqueue calls at once, overlapping: every custom_id accepted exactly once, every other sending of it answered duplicate', { timeout: 120_000 }, async () => {
  const t = target('together');
  await enqueue(t, [request('g-0')]);
  // Calls k and k+1 share four ids; all eight name g-0, accepted before.
  const calls = Array.from({ length: 8 }, (_, k) => [request('g-0'), ...Array.from({ length: 8 }, (_, j) => request(`g-${1 + k * 4 + j}`))]);
  const answers = (await Promise.all(calls.map((c) => enqueue(t, c)))).flat();
  const accepted = answers.filter((a) => a.status === 'accepted').map((a) => a.custom_id);
  assert.equal(new Set(accepted).size, accepted.length, 'no custom_id accepted twice');
  assert.deepEqual(new Set(accepted), new Set(Array.from({ length: 36 }, (_, i) => `g-${i + 1}`)), 'every new id accepted');
  const duplicates = answers.filter((a) => a.status === 'duplicate');
  assert.equal(duplicates.length, 8 + 7 * 4, 'g-0 in every call, and the four ids each call shares with the next');
  assert.equal(duplicates.filter((a) => a.custom_id === 'g-0').length, 8);
  const st = await intakeStatus(stack.env.client, 'together');
  assert.equal(st.counters.enqueued, 37);
  assert.equal(st.depthByTier.bulk, 37);
});
