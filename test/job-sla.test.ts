// SLA-aware scheduling on the real dev server and the emulator, with the window W compressed to seconds.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { downloadResults, startJob, waitForJob } from '../src/client/jobs';
import { describeSla } from '../src/cli/commands/sla';
import type { OutcomeLine } from '../src/domain/job';
import type { SlaPolicyInput } from '../src/domain/sla-route';
import type { EmulatorOptions } from '../src/emulator';
import { readJsonl, startStack, writeJobInput, type TestStack } from './helpers/stack';
import { sendsByCustomId } from './helpers/wire';

const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 32 };
const POLL = { initialMs: 200, growth: 1.5, capMs: 500 };
/** W = 4 s, M = 1 s: a batch is trusted until 5 s before the deadline. Sync calls are planned at 100 ms each. */
const SLA = { windowMs: 4_000, marginMs: 1_000, syncRequestMs: 100 } satisfies SlaPolicyInput;
/** Batches that take `realMs` of real time, every one of them. */
const batchesTaking = (realMs: number, extra: EmulatorOptions = {}): EmulatorOptions => ({
  timeScale: 0.001,
  latency: { batch: { kind: 'fixed', ms: realMs * 1_000 }, spread: 0 },
  ...extra,
});

const stacks: TestStack[] = [];
after(async () => {
  for (const s of stacks) await s.close();
});

async function runJob(count: number, emulator: EmulatorOptions, sla: SlaPolicyInput, ids?: (i: number) => string, prompt?: (i: number) => string) {
  const stack = await startStack(emulator);
  stacks.push(stack);
  const worker = await stack.startWorker();
  const file = await writeJobInput(count, { ...(ids && { customId: ids }), ...(prompt && { prompt }) });
  const client = stack.env.client;
  const { workflowId } = await startJob({
    client,
    store: stack.store,
    taskQueue: stack.taskQueue,
    file,
    defaults: DEFAULTS,
    options: { poll: POLL, sla },
  });
  const summary = await worker.runUntil(waitForJob(client, workflowId));
  const out = await mkdtemp(path.join(os.tmpdir(), 'sluice-sla-'));
  await downloadResults(stack.store, workflowId, out);
  const results = await readJsonl<OutcomeLine>(path.join(out, 'results.jsonl'));
  // Batch requests carry wire ids on the wire: count sends by the user's custom_id.
  const stats = stack.emulator.stats();
  return { summary, results, stats: { ...stats, submissions: await sendsByCustomId(stack.store, stats) }, stack, workflowId };
}

describe('the SLA window rule in a job', () => {
  test('a job that fits the window goes all batch', async () => {
    const { summary, stats } = await runJob(250, batchesTaking(500), { ...SLA, deadlineMs: Date.now() + 60_000 });
    assert.deepEqual(summary.byMode, { batch: 250, sync: 0 });
    assert.equal(stats.calls.create, 3);
    assert.equal(stats.calls.messages, 0);
    assert.equal(summary.costByMode.sync, 0);
  });

  test('a job started after its latest batch submission goes all sync', async () => {
    const { summary, stats, results } = await runJob(30, batchesTaking(500), { ...SLA, deadlineMs: Date.now() + 3_000 });
    assert.deepEqual(summary.byMode, { batch: 0, sync: 30 });
    assert.equal(stats.calls.create, 0, 'no batch was created');
    assert.ok(Object.values(stats.submissions).every((s) => s.sync === 1 && s.batch === 0));
    assert.ok(results.every((r) => r.status === 'succeeded' && r.mode === 'sync'));
    assert.ok(summary.costByMode.sync > 0 && summary.costByMode.batch === 0);
    assert.ok(Math.abs(summary.costUsd - summary.syncEquivalentUsd) < 1e-9, 'sync requests cost the full price');
  });

  test('a retry that can no longer meet the deadline by batch goes sync', async () => {
    const emulator = batchesTaking(4_000, {
      faults: { errorCustomIds: { pattern: 'flaky document', in: 'messages', type: 'overloaded_error' } },
    });
    const { results, stats } = await runJob(
      60,
      emulator,
      { ...SLA, deadlineMs: Date.now() + 9_000 },
      (i) => (i % 6 === 0 ? `flaky-${i}` : `ok-${i}`),
      (i) => (i % 6 === 0 ? `Summarise flaky document ${i}.` : `Summarise document ${i}.`),
    );
    const flaky = results.filter((r) => r.custom_id.startsWith('flaky-'));
    assert.equal(flaky.length, 10);
    for (const r of flaky) {
      assert.equal(r.status, 'succeeded');
      assert.equal(r.mode, 'sync', `${r.custom_id} was retried synchronously`);
      assert.equal(r.attempts, 2);
      assert.deepEqual(stats.submissions[r.custom_id], { batch: 1, sync: 1 });
    }
    for (const r of results.filter((x) => x.custom_id.startsWith('ok-'))) {
      assert.deepEqual(stats.submissions[r.custom_id], { batch: 1, sync: 0 }, 'only the failed ids were sent again');
    }
  });

  test('a straggling batch is canceled and finished synchronously, nothing paid twice', async () => {
    // Batches take 30 s; the deadline is 9 s away: the batch is trusted at submission (4 s + 1 s ≤ 9 s) but must
    // be canceled once only the expected sync time (40 requests / 8 × 500 ms = 2.5 s) is left.
    const { summary, results, stats } = await runJob(40, batchesTaking(30_000), {
      ...SLA,
      syncRequestMs: 500,
      deadlineMs: Date.now() + 9_000,
    });
    assert.equal(stats.calls.create, 1);
    assert.equal(stats.calls.cancel, 1, 'the straggler was canceled');
    assert.deepEqual(summary.byMode, { batch: 0, sync: 40 });
    assert.ok(results.every((r) => r.status === 'succeeded' && r.mode === 'sync' && r.batch_ids.length === 1));
    // The canceled batch billed nothing (no request in it succeeded); each request was paid once, synchronously.
    assert.ok(Object.values(stats.submissions).every((s) => s.sync === 1));
  });

  test('--no-sync-fallback reports sla_missed and sends nothing', async () => {
    const { summary, stats, results } = await runJob(20, batchesTaking(500), {
      ...SLA,
      deadlineMs: Date.now() + 3_000,
      syncFallback: false,
    });
    assert.equal(summary.outcomes.sla_missed, 20);
    assert.equal(stats.calls.create + stats.calls.messages, 0);
    assert.ok(results.every((r) => r.status === 'sla_missed' && r.error?.type === 'sla_missed'));
  });

  test('dual mode: a one-request job goes straight to the synchronous API', async () => {
    const { summary, stats } = await runJob(1, batchesTaking(500), {});
    assert.deepEqual(summary.byMode, { batch: 0, sync: 1 });
    assert.equal(stats.calls.create, 0);
  });
});

test('sluice sla 30h: submit every 4 h, last batch 6 h after now', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  const text = describeSla('30h', '24h', '2h', now);
  assert.match(text, /submit every\s+4h/);
  assert.match(text, /due 2026-12-02T06:00:00\.000Z/);
  assert.match(text, /latest batch at\s+2026-12-01T04:00:00\.000Z/);
  assert.throws(() => describeSla('20h', '24h', '2h', now), /too short for batches/);
});
