// One job, one prefix: (e) two runs of one file in the same second get distinct ids and each answers its own
// prompts; an id another job holds is refused before anything is written; a refused start leaves nothing behind.
// (f) an intake recreated after it was stopped never reuses an earlier incarnation's child ids.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startJob, waitForJob } from '../src/client/jobs';
import { enqueue, intakeStatus, type IntakeTarget } from '../src/client/intake';
import { ConfigError, InputError } from '../src/domain/errors';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import { intakeWorkflowId } from '../src/workflows/intake';
import { FAST_EMULATOR, startStack, writeJobInput, type TestStack } from './helpers/stack';
import { sendsByCustomId } from './helpers/wire';

const FAST_POLL = { poll: { initialMs: 150, growth: 1.3, capMs: 500 } };
const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 16 };

async function lines(stack: TestStack, key: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of stack.store.readLines(key)) out.push(l);
  return out;
}

describe('job ids and store prefixes', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack(FAST_EMULATOR);
  });
  after(() => stack.close());

  test('(e) two runs of one file in the same second: distinct jobs, each with its own results', { timeout: 60_000 }, async () => {
    const worker = await stack.startWorker();
    const file = await writeJobInput(6, { customId: (i) => `q-${i}`, prompt: (i) => `Same file, question ${i}.` });
    const target = { client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, file, defaults: DEFAULTS, options: FAST_POLL };
    const [a, b] = await Promise.all([startJob(target), startJob(target)]);
    assert.notEqual(a.workflowId, b.workflowId, 'same name, same second, distinct ids');
    const [sa, sb] = await worker.runUntil(Promise.all([waitForJob(stack.env.client, a.workflowId), waitForJob(stack.env.client, b.workflowId)]));
    assert.deepEqual([sa.outcomes.succeeded, sb.outcomes.succeeded], [6, 6]);
    const sends = await sendsByCustomId(stack.store, stack.emulator.stats(), { byJob: true });
    for (const id of [a.workflowId, b.workflowId]) {
      const results = (await lines(stack, jobKeys.output(id, 'results.jsonl'))).map((l) => JSON.parse(l) as OutcomeLine);
      assert.deepEqual(results.map((r) => r.custom_id), ['q-0', 'q-1', 'q-2', 'q-3', 'q-4', 'q-5']);
      for (const r of results) assert.deepEqual(sends[`${id}/${r.custom_id}`], { batch: 1, sync: 0 }, `${id}/${r.custom_id} sent once, by its own job`);
    }
  });

  test('(e) an id another job holds is refused before anything is written; its input stays as it was', async () => {
    const workflowId = `sluice-job-taken-${Date.now()}`;
    const fileA = await writeJobInput(5, { prompt: (i) => `A ${i}` });
    await startJob({ client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, file: fileA, workflowId, defaults: DEFAULTS });
    const inputA = await lines(stack, jobKeys.input(workflowId));

    const fileB = await writeJobInput(3, { prompt: (i) => `B ${i}` });
    await assert.rejects(
      startJob({ client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, file: fileB, workflowId, defaults: DEFAULTS }),
      (err: unknown) => err instanceof ConfigError && /already the id of another job: refused before anything was written/.test(err.message),
    );
    const badFile = path.join(path.dirname(fileB), 'bad.jsonl');
    await writeFile(badFile, '{"params": {}}\n');
    await assert.rejects(
      startJob({ client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, file: badFile, workflowId, defaults: DEFAULTS }),
      ConfigError,
    );
    assert.deepEqual(await lines(stack, jobKeys.input(workflowId)), inputA, "the first job's input is untouched");
    await stack.env.client.workflow.getHandle(workflowId).terminate('test done');
  });

  test('(e) a refused start (a bad file) leaves nothing in the store', async () => {
    const workflowId = `sluice-job-refused-${Date.now()}`;
    const badFile = path.join(path.dirname(await writeJobInput(1)), 'bad.jsonl');
    await writeFile(badFile, '{"custom_id": "x", "params": {"messages": []}}\n');
    await assert.rejects(
      startJob({ client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, file: badFile, workflowId, defaults: DEFAULTS }),
      InputError,
    );
    assert.deepEqual(await stack.store.list(`jobs/${workflowId}/`), [], 'nothing under the job prefix');
    // The id is free again: a good file may use it.
    const good = await writeJobInput(2);
    await startJob({ client: stack.env.client, store: stack.store, taskQueue: stack.taskQueue, file: good, workflowId, defaults: DEFAULTS });
    await stack.env.client.workflow.getHandle(workflowId).terminate('test done');
  });
});

describe('(f) a recreated intake', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack(FAST_EMULATOR);
  });
  after(() => stack.close());

  test('never reuses an earlier incarnation child ids, and sends its new requests', { timeout: 90_000 }, async () => {
    const worker = await stack.startWorker();
    const name = `recreated-${Date.now()}`;
    const target: IntakeTarget = {
      client: stack.env.client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      intake: name,
      options: { checkEveryMs: 200, cutLeadMs: 500, batchSize: 3, job: FAST_POLL },
    };
    const request = (id: string) => ({ custom_id: id, params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user' as const, content: `Question ${id}` }] } });
    const until = async (what: string, probe: () => Promise<boolean>) => {
      const deadline = Date.now() + 60_000;
      while (!(await probe())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await worker.runUntil(async () => {
      await enqueue(target, [request('one-1'), request('one-2'), request('one-3')]);
      await until('the first incarnation to finish', async () => (await intakeStatus(stack.env.client, name)).counters.succeeded === 3);
      await stack.env.client.workflow.getHandle(intakeWorkflowId(name)).terminate('stopped by an operator');
      await enqueue(target, [request('two-1'), request('two-2'), request('two-3')]);
      await until('the second incarnation to finish', async () => (await intakeStatus(stack.env.client, name)).counters.succeeded === 3);
    });
    const children: string[] = [];
    for await (const w of stack.env.client.workflow.list({ query: `WorkflowType = 'sluiceJob' AND TaskQueue = '${stack.taskQueue}'` })) children.push(w.workflowId);
    assert.equal(new Set(children).size, 2, `two children with distinct ids (${children.join(', ')})`);
    const sends = await sendsByCustomId(stack.store, stack.emulator.stats());
    for (const id of ['one-1', 'one-2', 'one-3', 'two-1', 'two-2', 'two-3']) assert.deepEqual(sends[id], { batch: 1, sync: 0 }, `${id} was sent once`);
  });
});
