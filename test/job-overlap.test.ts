// Creates and collects overlap: while a slow create is still under way, the batches already created are polled and
// their results collected (before the submit lane, the job created every granted batch before its first poll).
// Real dev server and emulator; the slow create is aimed at the exact call (the last one).
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { cancelJob, downloadResults, startJob, waitForJob } from '../src/client/jobs';
import type { OutcomeLine } from '../src/domain/job';
import { readJsonl, startStack, writeJobInput, type TestStack } from './helpers/stack';

const SHARDS = 6;
const SLOW_CREATE_MS = 6_000;

let stack: TestStack;
before(async () => {
  stack = await startStack({
    timeScale: 0.001,
    latency: { batch: { kind: 'uniform', minMs: 100_000, maxMs: 200_000 } },
    faults: { targeted: [{ endpoint: 'create', calls: [SHARDS], action: 'delayBefore', delayMs: SLOW_CREATE_MS }] },
  });
});
after(() => stack.close());

test('batches created early are collected while the last create is still under way, each exactly once', async () => {
  const worker = await stack.startWorker();
  const file = await writeJobInput(SHARDS * 10);
  const client = stack.env.client;
  const { workflowId } = await startJob({
    client,
    store: stack.store,
    taskQueue: stack.taskQueue,
    file,
    defaults: { model: 'claude-haiku-4-5', max_tokens: 32 },
    options: { batchSize: 10, activityConcurrency: 2, poll: { initialMs: 200, growth: 1.5, capMs: 500 } },
  });
  const summary = await worker.runUntil(waitForJob(client, workflowId));
  assert.equal(summary.outcomes.succeeded, SHARDS * 10);

  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const typeOf = new Map(events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [[String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name]] : [])));
  const completed = events.flatMap((e) => {
    const id = e.activityTaskCompletedEventAttributes?.scheduledEventId;
    return id === undefined || id === null ? [] : [typeOf.get(String(id))];
  });
  assert.equal(completed.filter((t) => t === 'submitBatch').length, SHARDS, 'one submit activity per sub-batch');
  const lastSubmit = completed.lastIndexOf('submitBatch');
  // One collect activity takes the batches that ended together (collectBatches), one batch alone after a failure.
  const collectedBefore = completed.slice(0, lastSubmit).filter((t) => t === 'collectBatch' || t === 'collectBatches').length;
  assert.ok(collectedBefore >= 1, `results were collected while the slow create ran (${collectedBefore} collect activities)`);

  const stats = stack.emulator.stats();
  assert.equal(stats.calls.create, SHARDS, 'one create per sub-batch, none repeated');
  assert.ok(Object.values(stats.submissions).every((s) => s.batch === 1), 'no request was submitted twice');
  const out = await mkdtemp(path.join(os.tmpdir(), 'sluice-overlap-'));
  await downloadResults(stack.store, workflowId, out);
  const results = await readJsonl<OutcomeLine>(path.join(out, 'results.jsonl'));
  assert.deepEqual(results.map((r) => r.line), Array.from({ length: SHARDS * 10 }, (_, i) => i + 1), 'every request once, in input order');
  assert.ok(results.every((r) => r.status === 'succeeded' && r.attempts === 1));
});

test('a cancel while creates wait in the lane: what waits is never sent, what was created is canceled, all reported', async () => {
  // One create at a time; the second is slow, so the third to fifth still wait in the lane when the cancel comes.
  const slow = await startStack({
    timeScale: 0.001,
    latency: { batch: { kind: 'uniform', minMs: 60_000_000, maxMs: 70_000_000 } },
    faults: { targeted: [{ endpoint: 'create', calls: [2], action: 'delayBefore', delayMs: 3_000 }] },
  });
  try {
    const worker = await slow.startWorker();
    const client = slow.env.client;
    const { workflowId } = await startJob({
      client,
      store: slow.store,
      taskQueue: slow.taskQueue,
      file: await writeJobInput(50),
      defaults: { model: 'claude-haiku-4-5', max_tokens: 32 },
      options: { batchSize: 10, activityConcurrency: 1, poll: { initialMs: 200, growth: 1.5, capMs: 500 }, cancelGraceMs: 20_000 },
    });
    const summary = await worker.runUntil(async () => {
      const deadline = Date.now() + 30_000;
      while (slow.emulator.stats().calls.create < 2) {
        if (Date.now() > deadline) throw new Error('timed out waiting for the slow create');
        await new Promise((r) => setTimeout(r, 20));
      }
      await cancelJob(client, workflowId);
      return waitForJob(client, workflowId);
    });
    const stats = slow.emulator.stats();
    assert.equal(stats.calls.create, 2, 'the three sub-batches still waiting were never sent');
    assert.equal(stats.calls.cancel, 2, 'both created batches were canceled');
    assert.equal(summary.outcomes.canceled, 50, 'every request is reported canceled');
    const out = await mkdtemp(path.join(os.tmpdir(), 'sluice-overlap-cancel-'));
    await downloadResults(slow.store, workflowId, out);
    const results = await readJsonl<OutcomeLine>(path.join(out, 'results.jsonl'));
    assert.equal(results.length, 50);
    assert.deepEqual(
      results.filter((r) => r.attempts === 0).map((r) => r.line),
      Array.from({ length: 30 }, (_, i) => i + 21),
      'the requests never sent say so (no attempt)',
    );
  } finally {
    await slow.close();
  }
});
