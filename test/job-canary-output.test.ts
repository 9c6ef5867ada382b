// The canary and output checks end to end (real dev server, emulator, compressed time): a broken prompt stops a
// 10,000-request job after its 20-request canary with nothing else sent; a good canary lets the job go on; answers
// that fail the --schema check are retried, then reported invalid_output in their own file, and cost what they cost.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startJob, waitForJob } from '../src/client/jobs';
import { jobKeys, type JobOptionsInput, type OutcomeLine } from '../src/domain/job';
import type { EmulatorOptions } from '../src/emulator';
import { FAST_EMULATOR, startStack, writeJobInput, type TestStack } from './helpers/stack';
import { sendsByCustomId } from './helpers/wire';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 64 };
const SCHEMA = { type: 'object', required: ['label', 'score'], properties: { label: { type: 'string' }, score: { type: 'number' } } };

async function lines<T>(stack: TestStack, key: string): Promise<T[]> {
  const out: T[] = [];
  if (!(await stack.store.exists(key))) return out;
  for await (const line of stack.store.readLines(key)) out.push(JSON.parse(line) as T);
  return out;
}

async function runJob(
  t: TestContext,
  faults: EmulatorOptions['faults'],
  input: { count: number; prompt: (i: number) => string },
  options: JobOptionsInput,
  outputSchema?: unknown,
) {
  const stack = await startStack({ ...FAST_EMULATOR, faults });
  t.after(() => stack.close());
  const worker = await stack.startWorker();
  const file = await writeJobInput(input.count, { prompt: input.prompt });
  const client = stack.env.client;
  const { workflowId } = await startJob({ client, store: stack.store, taskQueue: stack.taskQueue, file, defaults: DEFAULTS, options: { ...FAST_POLL, ...options }, outputSchema });
  const { summary, progress } = await worker.runUntil(async () => {
    const summary = await waitForJob(client, workflowId);
    return { summary, progress: await client.workflow.getHandle(workflowId).query<{ phase: string }>('progress') };
  });
  return {
    stack,
    summary,
    progress,
    results: await lines<OutcomeLine>(stack, jobKeys.output(workflowId, 'results.jsonl')),
    failures: await lines<OutcomeLine>(stack, jobKeys.output(workflowId, 'failures.jsonl')),
    invalid: await lines<OutcomeLine>(stack, jobKeys.output(workflowId, 'invalid-output.jsonl')),
    sends: await sendsByCustomId(stack.store, stack.emulator.stats()),
  };
}

test('a canary with a broken prompt stops a 10,000-request job after its 20 requests', async (t) => {
  // The broken prompt: every request's answer is prose where JSON was asked for (aimed by content, deterministically).
  const r = await runJob(
    t,
    { badAnswers: [{ pattern: 'as JSON', in: 'messages', answer: 'prose' }] },
    { count: 10_000, prompt: (i) => `Classify document ${i}; answer as JSON.` },
    { canary: { requests: 20 }, outputCheck: { expect: 'json' } },
  );
  const stats = r.stack.emulator.stats();
  assert.equal(stats.batches, 1, 'one batch: the canary');
  assert.equal(stats.requestsSubmitted, 20, 'only the canary was sent');
  assert.equal(stats.calls.messages, 0, 'nothing synchronous');
  assert.deepEqual(Object.keys(r.sends).sort(), Array.from({ length: 20 }, (_, i) => `item-${i}`).sort());
  assert.deepEqual(r.summary.canary, { requests: 20, failed: 20, allowed: 2, state: 'stopped' });
  assert.equal(r.summary.outcomes.invalid_output, 20);
  assert.equal(r.summary.outcomes.not_run, 9_980);
  assert.equal(r.invalid.length, 20, 'the canary\'s failures, in their own file');
  assert.equal(r.invalid[0]!.error?.type, 'not_json');
  assert.doesNotMatch(r.invalid[0]!.error.message, /Synthetic/, 'the error never quotes the answer');
  assert.equal(r.results.length, 10_000);
  assert.equal(r.progress.phase, 'stopped');
  assert.ok(r.summary.costUsd > 0, 'the canary\'s answers were paid for and are counted');
});

test('a good canary lets the job go on: everything is sent and succeeds', async (t) => {
  // 2 of 20 canary requests fail (10 %: not more than allowed), and the job goes on.
  const r = await runJob(
    t,
    { errorCustomIds: [{ pattern: 'document (3|7);', in: 'messages', type: 'invalid_request_error' }] },
    { count: 250, prompt: (i) => `Classify document ${i}; answer as JSON.` },
    { canary: { requests: 20 }, batchSize: 100, outputCheck: { expect: 'json' } },
  );
  assert.deepEqual(r.summary.canary, { requests: 20, failed: 2, allowed: 2, state: 'passed' });
  assert.equal(r.summary.outcomes.succeeded, 248);
  assert.equal(r.summary.outcomes.failed, 2);
  assert.equal(r.stack.emulator.stats().createLog[0]!.requestCount, 20, 'the canary went alone');
  assert.equal(r.stack.emulator.stats().requestsSubmitted, 250);
  assert.equal(r.progress.phase, 'done');
});

test('--schema: answers that fail it are retried up to max attempts, then invalid_output in their own file', async (t) => {
  // Documents 1 and 2 always get a wrong-shaped answer: valid JSON without label and score.
  const r = await runJob(
    t,
    { badAnswers: [{ pattern: 'document (1|2);', in: 'messages', answer: 'wrong_shape' }] },
    { count: 30, prompt: (i) => `Classify document ${i}; answer as JSON.` },
    { maxAttempts: 2 },
    SCHEMA,
  );
  assert.equal(r.summary.outcomes.succeeded, 28);
  assert.equal(r.summary.outcomes.invalid_output, 2);
  assert.deepEqual(r.sends['item-1'], { batch: 2, sync: 0 }, 'retried once, then reported');
  assert.deepEqual(r.sends['item-0'], { batch: 1, sync: 0 });
  assert.deepEqual(r.invalid.map((o) => o.custom_id).sort(), ['item-1', 'item-2']);
  const bad = r.invalid[0]!;
  assert.equal(bad.status, 'invalid_output');
  assert.equal(bad.attempts, 2);
  assert.equal(bad.error?.type, 'schema_mismatch');
  assert.match(bad.error.message, /must have required property 'label'/);
  assert.equal(bad.discarded?.length, 1, 'the first, discarded answer is kept for its cost');
  assert.equal(r.failures.length, 0, 'invalid answers are not in failures.jsonl');
  const good = r.results.find((o) => o.custom_id === 'item-0')!;
  assert.equal(good.status, 'succeeded');
});

test('a canary not smaller than the job is refused before anything is written or started', async (t) => {
  const stack = await startStack(FAST_EMULATOR);
  t.after(() => stack.close());
  const file = await writeJobInput(10, { prompt: (i) => `document ${i}` });
  await assert.rejects(
    startJob({ client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, file, defaults: DEFAULTS, options: { canary: { requests: 10 } } }),
    /canary: 10 requests is not smaller than the job \(10 requests\)/,
  );
  assert.deepEqual(await stack.store.list('jobs/'), [], 'nothing left in the store');
  assert.equal(stack.emulator.stats().requestsSubmitted, 0);
});

test('--schema on the synchronous path: a failing answer is asked again, then invalid_output', async (t) => {
  const r = await runJob(
    t,
    { badAnswers: [{ pattern: 'document 1;', in: 'messages', answer: 'wrong_shape' }] },
    { count: 4, prompt: (i) => `Classify document ${i}; answer as JSON.` },
    { maxAttempts: 2, sla: { mode: 'sync' } },
    SCHEMA,
  );
  assert.equal(r.summary.outcomes.succeeded, 3);
  assert.equal(r.summary.outcomes.invalid_output, 1);
  assert.deepEqual(r.sends['item-1'], { batch: 0, sync: 2 });
  assert.deepEqual(r.sends['item-0'], { batch: 0, sync: 1 });
  assert.deepEqual(r.invalid.map((o) => [o.custom_id, o.error?.type, o.discarded?.length]), [['item-1', 'schema_mismatch', 1]]);
});
