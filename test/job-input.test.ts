// Bad input is refused before anything is sent: every bad line named with its line number and field, no
// workflow started, no batch created; with skipInvalid the good lines run and the bad ones go to rejects.jsonl.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { startJob, waitForJob } from '../src/client/jobs';
import { InputError } from '../src/domain/errors';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import type { InputIssue } from '../src/domain/request';
import { startStack, type TestStack } from './helpers/stack';
import { sendsByCustomId } from './helpers/wire';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 64 };

const good = (id: string) =>
  JSON.stringify({ custom_id: id, params: { messages: [{ role: 'user', content: `Hello ${id}` }] } });

async function inputFile(lines: string[], name = 'input.jsonl'): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'sluice-input-')), name);
  await writeFile(file, lines.length === 0 ? '' : lines.join('\n') + '\n');
  return file;
}

describe('job input', () => {
  let stack: TestStack;
  let running: Promise<void>;
  const rejectedIds: string[] = [];
  before(async () => {
    stack = await startStack();
    // One worker polls the task queue through every test: anything started by mistake would run.
    running = (await stack.startWorker()).run();
  });
  after(async () => {
    await stack.close();
    await running;
  });

  /** startJob must throw an InputError; returns it after checking nothing was started or stored. */
  async function expectRefused(file: string, opts: { skipInvalid?: boolean } = {}): Promise<InputError> {
    const workflowId = `input-test-${randomUUID()}`;
    rejectedIds.push(workflowId);
    let thrown: unknown;
    try {
      await startJob({
        client: stack.env.client,
        store: stack.store,
        taskQueue: stack.taskQueue,
        file,
        workflowId,
        defaults: DEFAULTS,
        options: FAST_POLL,
        ...opts,
      });
    } catch (err) {
      thrown = err;
    }
    // No wait needed: describe by id is read from the server, not from visibility, so a workflow started by
    // mistake is found at once; only a workflow sends, and the last test lists every workflow of the task queue.
    assert.ok(thrown instanceof InputError, `expected an InputError, got ${String(thrown)}`);
    await assert.rejects(
      stack.env.client.workflow.getHandle(workflowId).describe(),
      WorkflowNotFoundError,
      'no workflow',
    );
    assert.equal(await stack.store.exists(jobKeys.input(workflowId)), false, 'no input left in the store');
    assert.equal(stack.emulator.stats().calls.create, 0, 'nothing submitted');
    return thrown;
  }

  const issueAt = (err: InputError, line: number): InputIssue[] => err.issues.filter((i) => i.line === line);

  test('every bad line is named with its line number and field, and nothing is sent', { timeout: 30_000 }, async () => {
    const longId = 'x'.repeat(65);
    const file = await inputFile([
      good('a'),
      good('dup'),
      '{"custom_id": "c", "params": {"messages": [',
      JSON.stringify({ custom_id: 'd', params: { max_tokens: 10 } }),
      good('e'),
      good('dup'),
      JSON.stringify({ custom_id: longId, params: { messages: [{ role: 'user', content: 'hi' }] } }),
      good('h'),
    ]);
    const err = await expectRefused(file);

    assert.deepEqual([...new Set(err.issues.map((i) => i.line))].sort(), [3, 4, 6, 7], 'exactly the bad lines');
    assert.match(issueAt(err, 3)[0]!.reason, /not valid JSON/);
    assert.deepEqual(
      issueAt(err, 4).map((i) => [i.field, i.reason]),
      [['params.messages', 'is required']],
    );
    const dup = issueAt(err, 6);
    assert.equal(dup.length, 1);
    assert.equal(dup[0]!.field, 'custom_id');
    assert.match(dup[0]!.reason, /duplicate custom_id "dup", first used on line 2/, 'names both lines');
    const long = issueAt(err, 7);
    assert.equal(long[0]!.field, 'custom_id');
    assert.match(long[0]!.reason, /65 characters/);

    assert.match(err.message, /4 bad lines/);
    for (const where of [
      `${file}:3: `,
      `${file}:4: params.messages: is required`,
      `${file}:6: custom_id: `,
      `${file}:7: custom_id: `,
    ]) {
      assert.ok(err.message.includes(where), `the message says "${where}"`);
    }
    assert.ok(!err.message.includes('Hello'), 'no prompt text in the message');
  });

  test('an empty file is refused', { timeout: 30_000 }, async () => {
    const err = await expectRefused(await inputFile([]));
    assert.deepEqual(err.issues, [{ line: 1, reason: 'is empty: there is nothing to send' }]);
    const blank = await expectRefused(await inputFile(['', '   ', '']));
    assert.match(blank.message, /is empty/);
  });

  test('with skipInvalid, a file with nothing valid is still refused', { timeout: 30_000 }, async () => {
    const err = await expectRefused(await inputFile(['not json', '{"params": 3}']), { skipInvalid: true });
    assert.match(err.message, /every line was rejected/);
  });

  test(
    'with skipInvalid, bad lines go to rejects.jsonl and only the valid lines run',
    { timeout: 30_000 },
    async () => {
      const lines = Array.from({ length: 20 }, (_, i) => good(`ok-${i}`));
      lines[2] = 'not json at all';
      lines[9] = JSON.stringify({ custom_id: 'no-messages', params: {} });
      lines[14] = good('ok-0'); // duplicate of line 1
      const file = await inputFile(lines);
      const client = stack.env.client;
      const { workflowId, prepared } = await startJob({
        client,
        store: stack.store,
        taskQueue: stack.taskQueue,
        file,
        workflowId: `input-test-${randomUUID()}`,
        defaults: DEFAULTS,
        options: FAST_POLL,
        skipInvalid: true,
      });
      assert.equal(prepared.requestCount, 17);
      assert.equal(prepared.rejected, 3);
      assert.equal(prepared.rejectsKey, jobKeys.rejects(workflowId));

      const rejects: { line: number; issues: InputIssue[] }[] = [];
      for await (const l of stack.store.readLines(jobKeys.rejects(workflowId)))
        rejects.push(JSON.parse(l) as (typeof rejects)[number]);
      assert.deepEqual(
        rejects.map((r) => r.line),
        [3, 10, 15],
      );
      assert.match(rejects[0]!.issues[0]!.reason, /not valid JSON/);
      assert.equal(rejects[1]!.issues[0]!.field, 'params.messages');
      assert.match(rejects[2]!.issues[0]!.reason, /first used on line 1/);

      const summary = await waitForJob(client, workflowId);
      assert.equal(summary.requests, 17);
      assert.equal(summary.outcomes.succeeded, 17);
      const results: OutcomeLine[] = [];
      for await (const l of stack.store.readLines(jobKeys.output(workflowId, 'results.jsonl')))
        results.push(JSON.parse(l) as OutcomeLine);
      const expectedLines = Array.from({ length: 20 }, (_, i) => i + 1).filter((n) => ![3, 10, 15].includes(n));
      assert.deepEqual(
        results.map((r) => r.line),
        expectedLines,
        'the valid lines, with their own line numbers',
      );
      const submitted = Object.keys(await sendsByCustomId(stack.store, stack.emulator.stats())).sort();
      assert.deepEqual(submitted, results.map((r) => r.custom_id).sort(), 'only the valid lines were sent');
      assert.ok(!submitted.includes('no-messages'));

      // Visibility: the one job that ran is the only workflow ever started on this task queue.
      let listed: string[] = [];
      for (let tries = 0; tries < 50; tries++) {
        listed = [];
        for await (const w of client.workflow.list({ query: `TaskQueue = '${stack.taskQueue}' AND WorkflowType = 'sluiceJob'` }))
          listed.push(w.workflowId);
        if (listed.length > 0) break;
        await sleep(100);
      }
      assert.deepEqual(listed, [workflowId]);
      assert.ok(rejectedIds.length === 4 && rejectedIds.every((id) => !listed.includes(id)));
    },
  );
});
