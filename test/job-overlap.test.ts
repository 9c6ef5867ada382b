// Creates and collects overlap: while a slow create is still under way, the batches already created are polled and
// their results collected (before the submit lane, the job created every granted batch before its first poll).
// Real dev server and emulator; the slow create is aimed at the exact call (the last one).
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { downloadResults, startJob, waitForJob } from '../src/client/jobs';
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
  const collectedBefore = completed.slice(0, lastSubmit).filter((t) => t === 'collectBatch').length;
  assert.ok(collectedBefore >= 1, `results were collected while the slow create ran (${collectedBefore} of ${SHARDS - 1} batches)`);

  const stats = stack.emulator.stats();
  assert.equal(stats.calls.create, SHARDS, 'one create per sub-batch, none repeated');
  assert.ok(Object.values(stats.submissions).every((s) => s.batch === 1), 'no request was submitted twice');
  const out = await mkdtemp(path.join(os.tmpdir(), 'sluice-overlap-'));
  await downloadResults(stack.store, workflowId, out);
  const results = await readJsonl<OutcomeLine>(path.join(out, 'results.jsonl'));
  assert.deepEqual(results.map((r) => r.line), Array.from({ length: SHARDS * 10 }, (_, i) => i + 1), 'every request once, in input order');
  assert.ok(results.every((r) => r.status === 'succeeded' && r.attempts === 1));
});
