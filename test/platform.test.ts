// The ground everything stands on: a workflow runs on a real Temporal dev server (not a mock), sleeps on a
// durable timer, calls an activity, and its recorded history replays deterministically.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { testEnv, uniqueTaskQueue } from './helpers/temporal';
import { sleepThenGreet } from './fixtures/timer-workflow';

const workflowsPath = require.resolve('./fixtures/timer-workflow');

test('a workflow sleeps on a durable timer and calls an activity on the real dev server', async () => {
  const env = await testEnv();
  assert.equal(env.supportsTimeSkipping, false, 'this must be the real dev server, not the time-skipping one');
  const { serverVersion } = await env.connection.workflowService.getSystemInfo({});
  assert.match(serverVersion ?? '', /^1\.\d+\.\d+/, 'the server reports a real Temporal version');

  const taskQueue = uniqueTaskQueue('platform');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath,
    activities: { greet: ({ name }: { name: string }) => Promise.resolve({ greeting: `hello, ${name}` }) },
  });
  const started = Date.now();
  const result = await worker.runUntil(
    env.client.workflow.execute(sleepThenGreet, {
      taskQueue,
      workflowId: `platform-${taskQueue}`,
      args: [{ name: 'sluice', sleepMs: 1_500 }],
    }),
  );
  assert.deepEqual(result, { greeting: 'hello, sluice' });
  assert.ok(Date.now() - started >= 1_500, 'the timer really waited on the server clock');

  const history = await env.client.workflow.getHandle(`platform-${taskQueue}`).fetchHistory();
  const { EventType } = temporal.api.enums.v1;
  const eventTypes = (history.events ?? []).map((e) => e.eventType);
  assert.ok(eventTypes.includes(EventType.EVENT_TYPE_TIMER_FIRED), 'the history records the durable timer');
  assert.ok(eventTypes.includes(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED), 'the history records the activity');

  // Replaying the recorded history must reproduce the same decisions (determinism guard).
  await Worker.runReplayHistory({ workflowsPath }, history, `platform-${taskQueue}`);
});
