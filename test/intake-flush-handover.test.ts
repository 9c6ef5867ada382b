// A flush that is still cutting when the store-backed intake continues as new, on the real dev server. With every
// sub-batch slot taken, the flush handler waits for the loop's cuts; the loop, due to continue as new, waited for every
// handler to finish: neither went on, the flush never answered and the intake cut nothing more. Now the flush is
// answered at the continue-as-new and the next run makes the cuts it asked for.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { intakeBufferActivities } from '../src/activities/intake-buffer';
import { createIntake, enqueue, flushIntake, intakeStatus, type IntakeRequest, type IntakeTarget } from '../src/client/intake';
import { subBatchDoneSignal } from '../src/contracts/messages';
import { intakeWorkflowId } from '../src/contracts/workflow-ids';
import type { IntakeOptionsInput } from '../src/domain/intake';
import { FAST_EMULATOR, startStack, type TestStack } from './helpers/stack';

let stack: TestStack;
let workers: Worker[];
let running: Promise<unknown>;
/** The sub-batch jobs' queue: its activities are served (the intake's cuts run there), its workflows by no one. */
const jobsQueue = `jobs-never-run-${randomUUID()}`;
before(async () => {
  stack = await startStack(FAST_EMULATOR);
  const cuts = await Worker.create({
    connection: stack.env.nativeConnection,
    namespace: stack.env.namespace ?? 'default',
    taskQueue: jobsQueue,
    activities: intakeBufferActivities({ store: stack.store }),
  });
  workers = [await stack.startWorker(), cuts];
  running = Promise.all(workers.map((w) => w.run()));
});
after(async () => {
  for (const w of workers) w.shutdown();
  await running;
  await stack.close();
});

const request = (id: string, tier: IntakeRequest['tier']): IntakeRequest => ({
  custom_id: id,
  tier,
  params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: `Question ${id}` }] },
});

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

test('a flush still cutting when the intake continues as new is answered, and the next run makes its cuts', { timeout: 240_000 }, async () => {
  const name = 'handover';
  // The intake runs on the worker's queue; its sub-batch jobs go to a queue whose workflows no worker serves, so a
  // job stays in flight (and its one slot taken) until it is terminated from outside.
  const t: IntakeTarget = {
    client: stack.env.client,
    store: stack.store,
    taskQueue: jobsQueue,
    intakeTaskQueue: stack.taskQueue,
    intake: name,
    options: {
      cutLeadMs: 500,
      maxJobsInFlight: 1,
      maxHistoryEvents: 500,
      silentCheckAfterMs: 1_000,
      tiers: { standard: { slaMs: 8_000, windowMs: 4_000, marginMs: 2_500 }, bulk: { slaMs: 120_000, windowMs: 60_000, marginMs: 10_000 } },
    } satisfies IntakeOptionsInput,
  };
  await createIntake(t);
  const handle = stack.env.client.workflow.getHandle(intakeWorkflowId(name));

  // The standard request is cut within a second and takes the only slot.
  assert.deepEqual((await enqueue(t, [request('s-1', 'standard')])).map((a) => a.status), ['accepted']);
  const first = await until('the first sub-batch', async () => {
    const s = await intakeStatus(stack.env.client, name);
    return s.jobsInFlight === 1 && s;
  });
  assert.equal(first.cuts, 1);

  // A bulk request waits for company; the flush cannot cut it while the slot is taken, so it waits.
  assert.deepEqual((await enqueue(t, [request('b-1', 'bulk')])).map((a) => a.status), ['accepted']);
  let answered: { requests: number } | undefined;
  const flushed = flushIntake(stack.env.client, name).then((r) => (answered = r));

  // Signals that name no job: history, until the run is past maxHistoryEvents and due to continue as new.
  const length = async () => Number((await handle.describe()).raw.workflowExecutionInfo?.historyLength ?? 0);
  for (let i = 0; (await length()) < 560 && (await intakeStatus(stack.env.client, name)).run === 1; i++) {
    for (let k = 0; k < 5; k++) await handle.signal(subBatchDoneSignal, { jobId: `not-a-job-${i}-${k}` });
    await new Promise((r) => setTimeout(r, 100));
  }

  const run2 = await until('the intake to continue as new (it waited for the flush, which waited for it)', async () => {
    const s = await intakeStatus(stack.env.client, name);
    return s.run === 2 && s;
  });
  await flushed;
  assert.deepEqual(answered, { requests: 1 }, 'the flush is answered with the requests it cuts');
  assert.equal(run2.depthByTier.bulk, 1, 'the bulk request is still waiting: the slot is taken');
  assert.equal(run2.cuts, 1);

  // The slot frees (the job ended from outside, found by the fallback): the new run makes the flush's cut, the bulk
  // request's, which on its own would wait a minute for company.
  for await (const wf of stack.env.client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
    if (wf.workflowId.startsWith(`${intakeWorkflowId(name)}-`)) await stack.env.client.workflow.getHandle(wf.workflowId).terminate('the test frees the only sub-batch slot');
  }
  const cut = await until('the flushed bulk request cut in the new run', async () => {
    const s = await intakeStatus(stack.env.client, name);
    // The cut counts from its start, before its activity has taken the request from the buffer: wait for both.
    return s.cuts === 2 && s.depthByTier.bulk === 0 && s;
  });
  assert.equal(cut.run, 2);
  await handle.terminate('test over');
});
