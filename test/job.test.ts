// The job workflow end to end on the real dev server and the emulator (compressed time).
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { downloadResults, startJob, waitForJob } from '../src/client/jobs';
import type { OutcomeLine } from '../src/domain/job';
import { readJsonl, startStack, writeJobInput, type TestStack } from './helpers/stack';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 64 };

describe('a job of 1,050 requests', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  test('goes out in 11 sub-batches and comes back complete, in input order', async () => {
    const worker = await stack.startWorker();
    const file = await writeJobInput(1_050, { customId: (i) => (i % 7 === 0 ? undefined : `doc-${(i * 7919) % 100_003}`) });
    const client = stack.env.client;
    const { workflowId } = await startJob({ client, store: stack.store, taskQueue: stack.taskQueue, file, defaults: DEFAULTS, options: FAST_POLL });
    const summary = await worker.runUntil(waitForJob(client, workflowId));

    assert.equal(summary.requests, 1_050);
    assert.equal(summary.outcomes.succeeded, 1_050);
    const stats = stack.emulator.stats();
    assert.equal(stats.calls.create, 11, 'ceil(1050/100) create calls');
    assert.deepEqual(stats.createLog.map((c) => c.requestCount).sort((a, b) => a - b), [50, ...Array<number>(10).fill(100)]);
    assert.ok(Object.values(stats.submissions).every((s) => s.batch === 1), 'no request was submitted twice');

    const out = await mkdtemp(path.join(os.tmpdir(), 'sluice-out-'));
    await downloadResults(stack.store, workflowId, out);
    const results = await readJsonl<OutcomeLine>(path.join(out, 'results.jsonl'));
    assert.equal(results.length, 1_050);
    assert.deepEqual(results.map((r) => r.line), Array.from({ length: 1_050 }, (_, i) => i + 1), 'input order');
    assert.equal(results[0]!.custom_id, 'req-0000000', 'a missing custom_id is derived from the global line index');
    assert.equal(results[7]!.custom_id, 'req-0000007');
    assert.ok(results.every((r) => r.status === 'succeeded' && r.attempts === 1 && r.batch_ids.length === 1));
    assert.ok(summary.costUsd > 0 && Math.abs(summary.syncEquivalentUsd - 2 * summary.costUsd) < 3e-6, 'batch costs half (both rounded to 6 decimals)');
  });
});
