// An intake on a queue of its own (SLUICE_INTAKE_TASK_QUEUE), served by a second worker in the worker's process:
// its admissions run on that queue, its cuts and sub-batch jobs on the jobs' queue, and every request gets its
// outcome. Also: the requestStatus query of a store-backed intake says where to ask instead of answering "unknown".
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { QueryNotRegisteredError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { enqueue, flushIntake, intakeRequest, intakeStatus, type IntakeRequest, type IntakeTarget } from '../src/client/intake';
import { requestStatusQuery } from '../src/contracts/messages';
import { intakeWorkflowId } from '../src/contracts/workflow-ids';
import type { IntakeOptionsInput } from '../src/domain/intake';
import { createIntakeWorker } from '../src/intake-worker';
import { createSluiceWorker, sluicePluginFor, type SluiceWorkerOptions } from '../src/worker';
import { FAST_EMULATOR, startStack, type TestStack } from './helpers/stack';
import { uniqueTaskQueue } from './helpers/temporal';
import { sharedWorkflowBundlePath } from './helpers/workflow-bundle';

const OPTIONS: IntakeOptionsInput = {
  cutLeadMs: 500,
  tiers: { standard: { slaMs: 8_000, windowMs: 4_000, marginMs: 2_500 }, bulk: { slaMs: 120_000, windowMs: 60_000, marginMs: 10_000 } },
  job: { poll: { initialMs: 150, growth: 1.3, capMs: 400 } },
};
const request = (id: string, tier?: IntakeRequest['tier']): IntakeRequest => ({
  custom_id: id,
  tier,
  params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: `Question ${id}` }] },
});

let stack: TestStack;
let workers: Worker[];
let running: Promise<unknown>;
const intakeQueue = uniqueTaskQueue('intake');
before(async () => {
  stack = await startStack(FAST_EMULATOR);
  const o: SluiceWorkerOptions = {
    workflowBundlePath: await sharedWorkflowBundlePath(),
    connection: stack.env.nativeConnection,
    namespace: stack.env.namespace ?? 'default',
    taskQueue: stack.taskQueue,
    apiKey: stack.emulator.apiKey,
    baseURL: stack.emulator.url,
    store: stack.store,
  };
  // As `sluice worker` does with SLUICE_INTAKE_TASK_QUEUE set: one plugin, two workers.
  const plugin = sluicePluginFor(o);
  workers = [await createSluiceWorker(o, plugin), await createIntakeWorker({ ...o, intakeTaskQueue: intakeQueue }, plugin)];
  running = Promise.all(workers.map((w) => w.run()));
});
after(async () => {
  for (const w of workers) w.shutdown();
  await running;
  await stack.close();
});

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got !== undefined && got !== false) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('an intake on its own queue admits there, its cuts and sub-batches run on the jobs queue, and each request has its outcome', { timeout: 180_000 }, async () => {
  const t: IntakeTarget = { client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, intakeTaskQueue: intakeQueue, intake: 'own', options: OPTIONS };
  // Bulk waits 50 s for company: nothing is cut before the flush.
  const answers = await enqueue(t, [request('q-1'), request('q-2'), request('q-3')]);
  assert.deepEqual(answers.map((a) => a.status), ['accepted', 'accepted', 'accepted']);
  assert.equal((await flushIntake(stack.env.client, 'own')).requests, 3);
  await enqueue(t, [request('q-4', 'urgent')]);
  await until('all 4 done', async () => (await intakeStatus(stack.env.client, 'own')).counters.succeeded === 4);

  const intake = await stack.env.client.workflow.getHandle(intakeWorkflowId('own')).describe();
  assert.equal(intake.taskQueue, intakeQueue);
  const history = await stack.env.client.workflow.getHandle(intakeWorkflowId('own')).fetchHistory();
  // What an enqueue waits for runs on the intake's worker; the bulk work that moves bodies (cuts) on the jobs queue
  // (patch intake-bulk-on-job-queue), so an admission never waits for a turn behind it.
  const queueOf = new Map<string, Set<string>>();
  for (const e of history.events!) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a) queueOf.set(a.activityType!.name!, (queueOf.get(a.activityType!.name!) ?? new Set()).add(a.taskQueue!.name!));
  }
  // Admissions are local activities (patch intake-admit-local): run by the intake's worker inside its workflow task.
  assert.equal([...queueOf.keys()].filter((type) => type.startsWith('admitIntake')).length, 0, 'no admission is an activity task');
  const localActivities = history.events!.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;
  assert.ok(localActivities >= 2, `${localActivities} admissions by local activity`);
  assert.deepEqual([...(queueOf.get('startIntakeJob') ?? [])], [intakeQueue], 'jobs are started from the intake queue');
  assert.deepEqual([...(queueOf.get('cutIntakeChunks') ?? [])], [stack.taskQueue], 'cuts run on the jobs queue');
  // Its jobs are started by an activity, not as children, and report their end by update (patch intake-quiet-handover):
  // nothing of theirs lands in the intake's history between its tasks, where it could fail a continue-as-new.
  const childIds = history.events!.flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    if (a?.activityType?.name !== 'startIntakeJob') return [];
    return [(JSON.parse(Buffer.from(a.input!.payloads![0]!.data!).toString()) as { spec: { jobId: string } }).spec.jobId];
  });
  assert.ok(childIds.length >= 2, `${childIds.length} sub-batches`);
  assert.equal(history.events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes || e.childWorkflowExecutionCompletedEventAttributes).length, 0, 'no child workflow events');
  assert.equal(history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes).length, 0, 'no signals');
  const endUpdates = history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'subBatchDone').length;
  assert.equal(endUpdates, childIds.length, 'each job reported its end by update');
  for (const id of childIds) assert.equal((await stack.env.client.workflow.getHandle(id).describe()).taskQueue, stack.taskQueue, `${id} runs on the jobs queue`);
  for (const id of ['q-1', 'q-2', 'q-3', 'q-4']) assert.equal((await intakeRequest(stack.env.client, stack.store, 'own', id)).outcome?.status, 'succeeded', id);
});

test('the requestStatus query of a store-backed intake names the command that answers; intakeRequest answers unknown ids', { timeout: 120_000 }, async () => {
  const t: IntakeTarget = { client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, intake: 'asked', options: OPTIONS };
  await enqueue(t, [request('a-1')]);
  await assert.rejects(
    stack.env.client.workflow.getHandle(intakeWorkflowId('asked')).query(requestStatusQuery, 'a-1'),
    (err: unknown) => err instanceof QueryNotRegisteredError && /keeps each request's record in the store.*sluice intake request asked CUSTOM_ID/.test(err.message),
  );
  assert.deepEqual(await intakeRequest(stack.env.client, stack.store, 'asked', 'a-1'), { custom_id: 'a-1', state: 'buffered', tier: 'bulk' });
  assert.deepEqual(await intakeRequest(stack.env.client, stack.store, 'asked', 'never-sent'), { custom_id: 'never-sent', state: 'unknown' });
});
