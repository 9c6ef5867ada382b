// Prompt text, results, API error texts and the API key never enter workflow history (Temporal keeps every
// payload): history holds ids, keys and counts only. Checked on the history's raw bytes, payloads included.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { startJob, waitForJob } from '../src/client/jobs';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const tag = randomUUID().slice(0, 8);
const PROMPT_MARKER = `SECRET-PROMPT-${tag}`;
const SYSTEM_MARKER = `SECRET-SYSTEM-${tag}`;
const API_KEY = `sk-emulator-SECRET-KEY-${tag}`;
const API_ERROR_TEXT = `refused-SECRET-ERROR-${tag}`;

describe('privacy of workflow history', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({
      apiKey: API_KEY,
      timeScale: 0.001,
      seed: 9,
      latency: { batch: { kind: 'uniform', minMs: 20_000, maxMs: 150_000 } },
      faults: {
        // Terminal failures (with the API's own message) and retried ones, so every path writes history.
        errorCustomIds: { pattern: 'refused memo', in: 'messages', type: 'invalid_request_error', message: API_ERROR_TEXT },
        resultErrors: { overloaded_error: 0.1 },
      },
    });
  });
  after(() => stack.close());

  test('holds no prompt, system prompt, result, API error text or API key', { timeout: 60_000 }, async () => {
    // 100 requests (every 25th refused): terminal failures, retried ones and results, in four sub-batches.
    const count = 100;
    const worker = await stack.startWorker();
    const file = await writeJobInput(count, {
      customId: (i) => (i % 25 === 0 ? `fail-${i}` : `doc-${i}`),
      prompt: (i) => `${PROMPT_MARKER} Summarise the confidential ${i % 25 === 0 ? 'refused memo' : 'memo'} number ${i}.`,
    });
    const client = stack.env.client;
    const { workflowId, handle } = await startJob({
      client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file,
      defaults: { model: 'claude-haiku-4-5', max_tokens: 64, system: `${SYSTEM_MARKER} You are a careful analyst.` },
      options: { ...FAST_POLL, batchSize: 25 },
    });
    const summary = await worker.runUntil(waitForJob(client, workflowId));
    assert.equal(summary.outcomes.failed, count / 25);
    assert.ok(summary.attempts['2']! > 0, 'some requests were retried');

    const results: OutcomeLine[] = [];
    for await (const l of stack.store.readLines(jobKeys.output(workflowId, 'results.jsonl')))
      results.push(JSON.parse(l) as OutcomeLine);
    const resultText = (results.find((r) => r.status === 'succeeded')!.message as { content: { text: string }[] })
      .content[0]!.text;
    assert.ok(resultText.length > 20);

    // The raw bytes of the whole history, payloads as stored (JSON text), so a leak would show verbatim.
    const history = await handle.fetchHistory();
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('utf8');
    const batchId = stack.emulator.stats().createLog[0]!.batchId;
    assert.ok(bytes.includes(workflowId) && bytes.includes(batchId), 'the search can see payloads (ids are there)');
    assert.ok(
      history.events!.some((e) => ['collectBatch', 'collectBatches'].includes(e.activityTaskScheduledEventAttributes?.activityType?.name ?? '')),
    );

    for (const [what, secret] of [
      ['prompt text', PROMPT_MARKER],
      ['prompt text', 'confidential memo'],
      ['system prompt (job default)', SYSTEM_MARKER],
      ['a result', resultText],
      ["the API's error message", API_ERROR_TEXT],
      ['the API key', API_KEY],
    ]) {
      assert.ok(!bytes.includes(secret!), `${what} is in workflow history`);
    }

    // The failures file carries the API's message, and still no prompt.
    const failures: string[] = [];
    for await (const l of stack.store.readLines(jobKeys.output(workflowId, 'failures.jsonl'))) failures.push(l);
    assert.equal(failures.length, count / 25);
    assert.ok(
      failures.every((l) => l.includes(API_ERROR_TEXT)),
      "each failure has the API's message",
    );
    assert.ok(
      failures.every((l) => !l.includes(PROMPT_MARKER) && !l.includes(SYSTEM_MARKER)),
      'no prompt in failures.jsonl',
    );
  });
});
