/**
 * A hard budget on the real dev server and the emulator, through the CLI: a job whose budget runs out mid-job never
 * spends past it (spend summed from the emulator's own usage), holds with reason budget (status and the progress
 * query say so), refuses a lower budget, and goes on when `sluice budget` raises it. Every request asks for as many
 * output tokens as the emulator gives (max_tokens 8), so each sub-batch costs exactly its worst case and the moment
 * the budget runs out is known in advance.
 */
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { jobProgress, waitForJob } from '../src/client/jobs';
import { worstCaseUsd } from '../src/domain/budget';
import { costOfUsage } from '../src/domain/cost';
import { countTokensBody } from '../src/domain/token-count';
import { sluice } from './helpers/cli';
import { startStack, type TestStack } from './helpers/stack';

const MODEL = 'claude-haiku-4-5';
const MAX_TOKENS = 8;
const request = (i: number) => ({ custom_id: `q-${i}`, params: { model: MODEL, max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: `Question ${String(i).padStart(3, '0')}?` }] } });

describe('job with a budget', () => {
  let stack: TestStack;
  let worker: Worker;
  let running: Promise<void>;
  let dir: string;
  let client: Anthropic;
  before(async () => {
    stack = await startStack();
    worker = await stack.startWorker();
    running = worker.run();
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-budget-'));
    client = new Anthropic({ apiKey: stack.emulator.apiKey, baseURL: stack.emulator.url });
  });
  after(async () => {
    worker.shutdown();
    await running;
    await stack.close();
  });

  const env = () => ({
    TEMPORAL_ADDRESS: stack.env.address,
    SLUICE_TASK_QUEUE: stack.taskQueue,
    SLUICE_STORE_DIR: stack.storeDir,
    SLUICE_STATE_DIR: path.join(dir, 'state'),
    ANTHROPIC_API_KEY: stack.emulator.apiKey,
    ANTHROPIC_BASE_URL: stack.emulator.url,
  });

  /** What the emulator billed so far, from the usage of every batch it created (batch prices). */
  async function spentPerEmulator(): Promise<number> {
    let usd = 0;
    for (const { batchId } of stack.emulator.stats().createLog) {
      for (;;) {
        const b = await client.messages.batches.retrieve(batchId);
        if (b.processing_status === 'ended') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      for await (const line of await client.messages.batches.results(batchId)) {
        if (line.result.type === 'succeeded') usd += costOfUsage(MODEL, line.result.message.usage, 'batch')!;
      }
    }
    return usd;
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  test('runs out mid-job, holds with reason budget, never spends past it, goes on when raised', { timeout: 240_000 }, async () => {
    const file = path.join(dir, 'thirty.jsonl');
    await writeFile(file, Array.from({ length: 30 }, (_, i) => JSON.stringify(request(i))).join('\n') + '\n');
    // Each request costs exactly its worst case here: count one (they are all the same length).
    const { input_tokens } = await client.messages.countTokens(countTokensBody(request(0).params) as unknown as Anthropic.MessageCountTokensParams);
    const subBatchUsd = 10 * worstCaseUsd({ model: MODEL, inputTokens: input_tokens, maxTokens: MAX_TOKENS }, 'batch')!;
    const budget = Number((1.5 * subBatchUsd).toFixed(8));

    const started = await sluice(['run', file, '--detach', '--batch-size', '10', '--budget', String(budget), '--poll-initial', '200ms', '--poll-cap', '1s'], env());
    assert.equal(started.code, 0, started.out);
    const jobId = started.out.match(/^(sluice-job-\S+)$/m)?.[1];
    assert.ok(jobId, started.out);
    assert.match(started.out, /Budget USD [\d.]+: the whole job costs at most USD/);

    // One sub-batch fits; after it is collected the second (its worst case) would pass the budget: held.
    const held = await until('held at the budget', async () => {
      const p = await jobProgress(stack.env.client, jobId);
      return p.heldReason === 'budget' && p.batches.collected === 1 && p.batches.inFlight === 0 ? p : undefined;
    });
    assert.equal(held.phase, 'held');
    assert.equal(stack.emulator.stats().batches, 1, 'nothing past the budget was submitted');
    const spentAtHold = await spentPerEmulator();
    assert.ok(spentAtHold <= budget, `spent ${spentAtHold} > budget ${budget}`);
    assert.ok(Math.abs(held.budget!.spentUsd - spentAtHold) < 1e-9, 'the job counts what the emulator billed');
    const status = await sluice(['status', jobId], env());
    assert.match(status.out, /: held \(budget\)/);
    assert.match(status.out, /budget {5}\$[\d.]+: \$[\d.]+ spent, \$0\.0000 reserved — held: raise it with `sluice budget /);

    // Lower than what is spent: refused, nothing changes.
    const lower = await sluice(['budget', jobId, String(spentAtHold / 2)], env());
    assert.equal(lower.code, 2, lower.out);
    assert.match(lower.out, /the budget must be at least USD/);
    const nonsense = await sluice(['budget', jobId, 'ten'], env());
    assert.equal(nonsense.code, 2, nonsense.out);

    // Raised to 2.5 sub-batches: one more goes, then it holds again; raised past the rest: it finishes.
    const raised = Number((2.5 * subBatchUsd).toFixed(8));
    const r1 = await sluice(['budget', jobId, String(raised)], env());
    assert.equal(r1.code, 0, r1.out);
    await until('held again after the second sub-batch', async () => {
      const p = await jobProgress(stack.env.client, jobId);
      return p.heldReason === 'budget' && p.batches.collected === 2 && p.batches.inFlight === 0 ? p : undefined;
    });
    assert.equal(stack.emulator.stats().batches, 2);
    assert.ok((await spentPerEmulator()) <= raised);

    const finalBudget = Number((10 * subBatchUsd).toFixed(8));
    assert.equal((await sluice(['budget', jobId, String(finalBudget)], env())).code, 0);
    const summary = await waitForJob(stack.env.client, jobId);
    assert.equal(summary.outcomes.succeeded, 30);
    const spent = await spentPerEmulator();
    assert.ok(spent <= finalBudget);
    assert.ok(summary.budget, 'the summary shows the budget');
    assert.ok(Math.abs(summary.budget.spentUsd - spent) < 1e-6);
    assert.equal(summary.budget.reservedUsd, 0);
    assert.ok(summary.budget.peakCommittedUsd <= finalBudget);
    assert.ok(summary.syncEquivalentUsd > summary.costUsd, 'and what the synchronous API would have cost');
  });

  test('a budget below one sub-batch, zero, negative or not a number is refused before anything is sent', { timeout: 60_000 }, async () => {
    const file = path.join(dir, 'ten.jsonl');
    await writeFile(file, Array.from({ length: 10 }, (_, i) => JSON.stringify(request(i))).join('\n') + '\n');
    const before = stack.emulator.stats();
    const tooLow = await sluice(['run', file, '--detach', '--batch-size', '10', '--budget', '0.000001'], env());
    assert.equal(tooLow.code, 2, tooLow.out);
    assert.match(tooLow.out, /--budget 0\.000001: below the worst case of one sub-batch \(USD [\d.]+: its input plus max_tokens of output\)/);
    for (const bad of ['0', '-5', 'lots']) {
      const r = await sluice(['run', file, '--detach', '--budget', bad], env());
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /--budget must be (more than 0 USD|an amount of USD)/);
    }
    const after = stack.emulator.stats();
    assert.equal(after.billableCalls, before.billableCalls, 'nothing billable was sent');
  });
});
