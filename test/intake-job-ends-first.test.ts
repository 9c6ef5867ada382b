// A job that ends before its intake hears that the job started (patch intake-quiet-handover): the intake starts a job
// by an activity, and the job's end update can reach the intake before that activity's answer does (a slow intake
// task, or a start retried after a timeout while a fast urgent job finished). The intake must count that end at once,
// not leave the job holding a slot until its silent check (10 minutes by default). The fault is aimed at that
// moment: the start activity, once its job is started, holds its answer back until the job has ended.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { Worker, type ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { enqueue, intakeStatus, type IntakeTarget } from '../src/client/intake';
import type { StartIntakeJobInput } from '../src/contracts/activities';
import { intakeWorkflowId } from '../src/contracts/workflow-ids';
import { sluicePluginFor } from '../src/worker';
import { FAST_EMULATOR, startStack, type TestStack } from './helpers/stack';
import { sharedWorkflowBundlePath } from './helpers/workflow-bundle';

/** The start activity answers only after its job has closed: the job's end update comes first. */
const answerAfterTheJobEnded: ActivityInboundCallsInterceptor = {
  async execute(input, next) {
    const result = await next(input);
    const { activityType } = Context.current().info;
    if (activityType === 'startIntakeJob') {
      const [{ spec }] = input.args as [StartIntakeJobInput];
      const handle = Context.current().client.workflow.getHandle(spec.jobId);
      await handle.result();
      // The job's report (an activity of the job, after its summary) is done once the job has closed; a moment more
      // lets the intake's task that takes it run before this answer is sent.
      await new Promise((r) => setTimeout(r, 500));
      heldBack.push(spec.jobId);
    }
    return result;
  },
};
const heldBack: string[] = [];

let stack: TestStack;
let worker: Worker;
let running: Promise<void>;
before(async () => {
  stack = await startStack(FAST_EMULATOR);
  const o = {
    connection: stack.env.nativeConnection,
    namespace: stack.env.namespace ?? 'default',
    taskQueue: stack.taskQueue,
    apiKey: stack.emulator.apiKey,
    baseURL: stack.emulator.url,
    store: stack.store,
  };
  worker = await Worker.create({
    ...o,
    workflowBundle: { codePath: await sharedWorkflowBundlePath() },
    plugins: [sluicePluginFor(o)],
    interceptors: { activity: [() => ({ inbound: answerAfterTheJobEnded })] },
  });
  running = worker.run();
});
after(async () => {
  worker.shutdown();
  await running;
  await stack.close();
});

test('a job that ends before its start is answered is counted at once, not at the silent check', { timeout: 120_000 }, async () => {
  const t: IntakeTarget = { client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, intake: 'ends-first' };
  const [answer] = await enqueue(t, [
    { custom_id: 'e-1', tier: 'urgent', params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'Quick question' }] } },
  ]);
  assert.equal(answer!.status, 'accepted');

  // Well inside the 10 min silent check: only the job's own report can have told the intake.
  const deadline = Date.now() + 60_000;
  let status = await intakeStatus(stack.env.client, 'ends-first');
  while (status.counters.succeeded < 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    status = await intakeStatus(stack.env.client, 'ends-first');
  }
  assert.equal(heldBack.length, 1, 'the start answered after its job ended');
  assert.equal(status.counters.succeeded, 1, 'the request has its outcome');
  assert.equal(status.jobsInFlight, 0, 'the job holds no slot');

  // The end came by the job's update, taken while the intake still waited for the start's answer.
  const history = await stack.env.client.workflow.getHandle(intakeWorkflowId('ends-first')).fetchHistory();
  const events = history.events!;
  const updateAt = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'subBatchDone');
  const startedAnswerAt = events.findIndex((e) => e.activityTaskCompletedEventAttributes && events.some((s) => Number(s.eventId) === Number(e.activityTaskCompletedEventAttributes!.scheduledEventId) && s.activityTaskScheduledEventAttributes?.activityType?.name === 'startIntakeJob'));
  assert.ok(updateAt >= 0 && startedAnswerAt >= 0 && updateAt < startedAnswerAt, 'the end update came before the start answered');
});
