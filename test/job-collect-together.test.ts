// Batches that end together are collected together: one collectBatches activity takes a round's ended batches, so
// a job makes fewer collect activities than it has batches, and every result still arrives once. A batch the group
// cannot collect loses nothing of the others': it is collected again alone (collectBatch, with its own retries),
// and a final failure still stops the job with what the group collected kept. Real dev server and emulator; the
// failures are aimed at exact results downloads.
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { test } from 'node:test';
import type { Client } from '@temporalio/client';
import { downloadResults, startJob, waitForJob } from '../src/client/jobs';
import type { OutcomeLine } from '../src/domain/job';
import type { EmulatorOptions } from '../src/emulator';
import { readJsonl, startStack, writeJobInput } from './helpers/stack';

const BATCHES = 8;
const PER_BATCH = 10;
/** Every batch takes 2 s of real time: all are created before the first ends, and they end within moments. */
const endTogether = (faults: EmulatorOptions['faults'] = {}): EmulatorOptions => ({
  timeScale: 0.001,
  latency: { batch: { kind: 'fixed', ms: 2_000_000 }, spread: 0 },
  faults,
});

async function runJob(emulator: EmulatorOptions) {
  const stack = await startStack(emulator);
  try {
    const worker = await stack.startWorker();
    const client = stack.env.client;
    const { workflowId } = await startJob({
      client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file: await writeJobInput(BATCHES * PER_BATCH),
      defaults: { model: 'claude-haiku-4-5', max_tokens: 32 },
      options: { batchSize: PER_BATCH, poll: { initialMs: 200, growth: 1.5, capMs: 500 } },
    });
    const outcome = await worker.runUntil(waitForJob(client, workflowId).then((summary) => ({ summary }), (error: unknown) => ({ error })));
    const out = await mkdtemp(path.join(os.tmpdir(), 'sluice-collect-together-'));
    await downloadResults(stack.store, workflowId, out);
    return {
      ...outcome,
      activities: await completedActivities(client, workflowId),
      results: await readJsonl<OutcomeLine>(path.join(out, 'results.jsonl')),
      stats: stack.emulator.stats(),
    };
  } finally {
    await stack.close();
  }
}

/** Activity types scheduled by the job, by how many times (every run of it). */
async function completedActivities(client: Client, workflowId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  for (const e of events) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

const everyLine = Array.from({ length: BATCHES * PER_BATCH }, (_, i) => i + 1);

test('batches that ended together are collected in fewer activities than batches, every result once', { timeout: 120_000 }, async () => {
  const r = await runJob(endTogether());
  assert.ok('summary' in r, 'the job completed');
  assert.equal(r.summary.outcomes.succeeded, BATCHES * PER_BATCH);
  assert.equal(r.activities.submitBatch, BATCHES, 'one submit activity per sub-batch');
  const collects = (r.activities.collectBatches ?? 0) + (r.activities.collectBatch ?? 0);
  assert.ok(r.activities.collectBatches! >= 1 && collects < BATCHES, `${collects} collect activities for ${BATCHES} batches (${JSON.stringify(r.activities)})`);
  assert.equal(r.activities.collectBatch ?? 0, 0, 'no batch collected alone: none failed');
  assert.equal(r.stats.calls.results, BATCHES, 'one results download per batch');
  assert.ok(Object.values(r.stats.submissions).every((s) => s.batch === 1), 'no request was submitted twice');
  assert.deepEqual(r.results.map((l) => l.line), everyLine, 'every request once, in input order');
  assert.ok(r.results.every((l) => l.status === 'succeeded' && l.attempts === 1));
});

test('a batch whose download fails is collected again alone; the others\' results arrive from the group', { timeout: 120_000 }, async () => {
  // The second results download of the job answers 404, the API catching up (retried by Sluice, not by the SDK):
  // one batch of the first group fails.
  const r = await runJob(endTogether({ targeted: [{ endpoint: 'results', calls: [2], action: 'error', errorType: 'not_found_error' }] }));
  assert.ok('summary' in r, 'the job completed');
  assert.equal(r.activities.collectBatch, 1, 'only the failed batch was collected alone');
  assert.ok(r.activities.collectBatches! < BATCHES);
  assert.equal(r.stats.calls.results, BATCHES + 1, 'the other batches were downloaded once; the failed one twice');
  assert.equal(r.summary.outcomes.succeeded, BATCHES * PER_BATCH);
  assert.deepEqual(r.results.map((l) => l.line), everyLine, 'every request once, in input order');
  assert.ok(r.results.every((l) => l.status === 'succeeded' && l.attempts === 1), 'nothing was sent again');
  assert.ok(Object.values(r.stats.submissions).every((s) => s.batch === 1), 'no request was submitted twice');
});

test('a final failure of one batch stops the job as before, and what its group collected is kept', { timeout: 120_000 }, async () => {
  // Only the first download succeeds: every other answers 401, which no retry changes.
  const calls = Array.from({ length: 40 }, (_, i) => i + 2);
  const r = await runJob(endTogether({ targeted: [{ endpoint: 'results', calls, action: 'error', errorType: 'authentication_error' }] }));
  assert.ok('error' in r, 'the job failed');
  assert.match(String((r.error as Error).cause ?? r.error), /Job .* stopped: /);
  assert.ok((r.activities.collectBatch ?? 0) >= 1, 'the failed batch was collected alone before the job gave up');
  const succeeded = r.results.filter((l) => l.status === 'succeeded');
  assert.equal(succeeded.length, PER_BATCH, 'the batch the group collected is in results.jsonl');
  assert.deepEqual(r.results.map((l) => l.line), everyLine, 'every request has a line');
});
