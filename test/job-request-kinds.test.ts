// Requests end to end on the real dev server and the emulator: the corpus's valid-but-tricky file runs as a job and
// every request succeeds, priced; a model the account lacks, let through by a client that did not read the Models
// API, is refused by the plan activity (which reads it once per job) before anything is sent; and a model without a
// price is reported as unpriced.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { WorkflowFailedError } from '@temporalio/client';
import { readModelCatalog } from '../src/anthropic/model-catalog';
import { startJob, waitForJob } from '../src/client/jobs';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import { startStack, type TestStack } from './helpers/stack';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 16 };
const TRICKY = path.join(__dirname, 'fixtures', 'bad-input', 'good-tricky-params.jsonl');

async function inputFile(lines: unknown[]): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'sluice-kinds-')), 'input.jsonl');
  await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}
const ask = (id: string, extra: Record<string, unknown> = {}) => ({ custom_id: id, params: { messages: [{ role: 'user', content: `Hello ${id}` }], ...extra } });

describe('request kinds end to end', () => {
  let stack: TestStack;
  let running: Promise<void>;
  before(async () => {
    stack = await startStack();
    running = (await stack.startWorker()).run();
  });
  after(async () => {
    await stack.close();
    await running;
  });

  test('the valid-but-tricky requests all succeed, each at a price', { timeout: 120_000 }, async () => {
    const models = await readModelCatalog(new Anthropic({ apiKey: stack.emulator.apiKey, baseURL: stack.emulator.url }));
    const { workflowId, prepared } = await startJob({
      client: stack.env.client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file: TRICKY,
      workflowId: `kinds-${randomUUID()}`,
      defaults: DEFAULTS,
      options: FAST_POLL,
      models,
    });
    assert.equal(prepared.requestCount, 9);
    const summary = await waitForJob(stack.env.client, workflowId);
    assert.equal(summary.outcomes.succeeded, 9, JSON.stringify(summary.outcomes));
    assert.deepEqual(summary.unpricedModels, []);
    assert.ok(summary.costUsd > 0);
    const results: OutcomeLine[] = [];
    for await (const l of stack.store.readLines(jobKeys.output(workflowId, 'results.jsonl'))) results.push(JSON.parse(l) as OutcomeLine);
    assert.deepEqual(results.map((r) => r.custom_id), ['prefill', 'adaptive', 'budget', 'tools', 'image', 'sampling', 'dated', 'cache', 'odd-keys']);
  });

  test('a model the account lacks is refused by the plan activity, named by line, with nothing sent', { timeout: 60_000 }, async () => {
    const before = stack.emulator.stats();
    const file = await inputFile([ask('a'), ask('b', { model: 'claude-opus-9' }), ask('c', { max_tokens: 32 })]);
    const { workflowId } = await startJob({
      client: stack.env.client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file,
      workflowId: `kinds-${randomUUID()}`,
      defaults: DEFAULTS,
      options: FAST_POLL,
    });
    const failure = await waitForJob(stack.env.client, workflowId).then(
      () => assert.fail('the job should fail'),
      (err: unknown) => err,
    );
    assert.ok(failure instanceof WorkflowFailedError, String(failure));
    const message = failure.cause?.message ?? '';
    assert.match(message, /the account's models refuse these requests/);
    assert.match(message, /line 2: params\.model: is not a model this account can use \(got "claude-opus-9"\)/);
    assert.ok(!message.includes('Hello'), 'no prompt text in the failure');
    const afterStats = stack.emulator.stats();
    assert.equal(afterStats.calls.create, before.calls.create, 'no batch created');
    assert.equal(afterStats.calls.messages, before.calls.messages, 'no synchronous call');
    assert.equal(afterStats.calls.models, before.calls.models + 1, 'the Models API read once for the job');
  });

  test('a model without a price is reported as unpriced, never as $0 of cost', { timeout: 120_000 }, async () => {
    const file = await inputFile([ask('x', { model: 'claude-fable-5-2' }), ask('y', { model: 'claude-fable-5-2' })]);
    const { workflowId } = await startJob({
      client: stack.env.client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file,
      workflowId: `kinds-${randomUUID()}`,
      defaults: DEFAULTS,
      options: FAST_POLL,
    });
    const summary = await waitForJob(stack.env.client, workflowId);
    assert.equal(summary.outcomes.succeeded, 2);
    assert.deepEqual(summary.unpricedModels, ['claude-fable-5-2']);
    assert.ok(summary.tokens.input > 0, 'its tokens still count');
  });
});
