// How an intake starts its jobs and hears of their end (patch intake-quiet-handover), as activities on a real dev
// server: every activity may run twice, so a start sent again, even after its job ended, must start nothing (a second
// run would pay for its requests again), and a report to an intake that is gone is nobody to tell, not a failure.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { intakeJobActivities } from '../src/activities/intake-jobs';
import { startJob, waitForJob } from '../src/client/jobs';
import type { JobSpec } from '../src/domain/job';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';

let stack: TestStack;
let worker: Worker;
let running: Promise<void>;
before(async () => {
  stack = await startStack();
  worker = await stack.startWorker();
  running = worker.run();
});
after(async () => {
  worker.shutdown();
  await running;
  await stack.close();
});

const acts = intakeJobActivities();
const env = () => new MockActivityEnvironment({}, { client: stack.env.client });

test('a job start sent again, while the job runs and after it ended, starts no second run', { timeout: 120_000 }, async () => {
  const { workflowId } = await startJob({
    client: stack.env.client,
    store: stack.store,
    taskQueue: stack.taskQueue,
    file: await writeJobInput(3),
    defaults: { model: 'claude-haiku-4-5', max_tokens: 16 },
    // Polled often, so the job ends within seconds of its batch.
    options: { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } },
  });
  const started = (await stack.env.client.workflow.getHandle(workflowId).fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!;
  const { spec } = JSON.parse(Buffer.from(started.input!.payloads![0]!.data!).toString()) as { spec: JobSpec };
  const again = { spec, taskQueue: stack.taskQueue, staticSummary: 'the same job, started again' };

  await env().run(acts.startIntakeJob, again);
  const summary = await waitForJob(stack.env.client, workflowId);
  assert.equal(summary.outcomes.succeeded, 3);
  await env().run(acts.startIntakeJob, again);

  const runs: string[] = [];
  for await (const wf of stack.env.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(wf.runId);
  assert.equal(runs.length, 1, `one run of ${workflowId}`);
});

test('an end reported to an intake that does not exist is done, not retried', { timeout: 30_000 }, async () => {
  await env().run(acts.reportJobEnded, { intakeWorkflowId: 'sluice-intake-never-created', jobId: 'sluice-intake-never-created-000001' });
});
