// Cache-aware sub-batches end to end, on the real dev server and the emulator: an interleaved input of two shared
// system prompts with --cache-prefix is cut into one sub-batch per prefix (in input order within each), the prefix
// is marked with the 1-hour TTL, every request but the first of a group reads the cache, results.jsonl keeps input
// order, and the summary's cache saving is the one the price table gives for its write and read tokens.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startJob, waitForJob } from '../src/client/jobs';
import type { PlanResult } from '../src/contracts/activities';
import { jobKeys, originalShardKey, type OutcomeLine, type ShardLine } from '../src/domain/job';
import { startStack, type TestStack } from './helpers/stack';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const MODEL = 'claude-sonnet-5-5';
const SYSTEM_A = 'You review contracts for the legal team. '.repeat(120);
const SYSTEM_B = 'You triage bug reports for the platform team. '.repeat(110);

describe('cache-aware sub-batches end to end', () => {
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

  test('two interleaved prefixes: one sub-batch each, in order; reads for all but the first; the saving priced', { timeout: 120_000 }, async () => {
    const order = ['a1', 'b1', 'a2', 'b2', 'solo', 'a3', 'b3', 'a4', 'b4'];
    const systemOf = (id: string) => (id.startsWith('a') ? SYSTEM_A : id.startsWith('b') ? SYSTEM_B : 'A one-off preamble.');
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'sluice-cache-')), 'input.jsonl');
    await writeFile(file, order.map((id) => JSON.stringify({ custom_id: id, params: { system: systemOf(id), messages: [{ role: 'user', content: `Case ${id}` }] } })).join('\n') + '\n');
    const { workflowId } = await startJob({
      client: stack.env.client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file,
      workflowId: `cache-${randomUUID()}`,
      defaults: { model: MODEL, max_tokens: 16 },
      options: { ...FAST_POLL, batchSize: 4, cachePrefix: { ttl: '1h' } },
    });
    const summary = await waitForJob(stack.env.client, workflowId);
    assert.equal(summary.outcomes.succeeded, order.length, JSON.stringify(summary.outcomes));

    const plan = await stack.store.readJson<PlanResult>(jobKeys.plan(workflowId));
    assert.deepEqual(plan?.shardSizes, [4, 4, 1]);
    assert.equal(plan?.cacheGroups, 2);
    assert.equal(plan?.cacheMarked, 8, 'the one-off preamble is shared by no one: not marked');
    const shards: ShardLine[][] = [];
    for (let i = 0; i < plan.shardSizes.length; i++) {
      const lines: ShardLine[] = [];
      for await (const text of stack.store.readLines(jobKeys.shard(workflowId, originalShardKey(i)))) lines.push(JSON.parse(text) as ShardLine);
      shards.push(lines);
    }
    assert.deepEqual(shards.map((s) => s.map((l) => l.custom_id)), [['a1', 'a2', 'a3', 'a4'], ['b1', 'b2', 'b3', 'b4'], ['solo']]);
    assert.deepEqual(shards[0]![0]!.params.system, [{ type: 'text', text: SYSTEM_A, cache_control: { type: 'ephemeral', ttl: '1h' } }]);
    assert.equal(shards[2]![0]!.params.system, 'A one-off preamble.', 'sent as written');

    const results: OutcomeLine[] = [];
    for await (const l of stack.store.readLines(jobKeys.output(workflowId, 'results.jsonl'))) results.push(JSON.parse(l) as OutcomeLine);
    assert.deepEqual(results.map((r) => r.custom_id), order, 'results in input order');
    const usage = (r: OutcomeLine) => (r.message as { usage: { cache_creation_input_tokens: number; cache_read_input_tokens: number } }).usage;
    for (const group of ['a', 'b']) {
      const mine = results.filter((r) => r.custom_id.startsWith(group));
      const writers = mine.filter((r) => usage(r).cache_creation_input_tokens > 0);
      assert.equal(writers.length, 1, `one write in group ${group}`);
      const written = usage(writers[0]!).cache_creation_input_tokens;
      assert.ok(written >= 1_024, 'over the model minimum');
      const readers = mine.filter((r) => r !== writers[0]);
      assert.ok(readers.every((r) => usage(r).cache_read_input_tokens === written && usage(r).cache_creation_input_tokens === 0), `the other three of ${group} read`);
    }
    assert.equal(usage(results.find((r) => r.custom_id === 'solo')!).cache_read_input_tokens, 0);

    // Sonnet 5.5 at batch prices (half of docs/models.md): input $1, 1-hour write $2, read $0.10 per million tokens.
    const { cacheCreation: w, cacheRead: r } = summary.tokens;
    assert.ok(w > 0 && r > 2 * w, JSON.stringify(summary.tokens)); // three reads of each write
    const expected = ((w + r) * 1 - (w * 2 + r * 0.1)) / 1e6;
    assert.equal(summary.cacheSavedUsd, Math.round(expected * 1e6) / 1e6);
    assert.ok(summary.cacheSavedUsd > 0);
  });

  test('a line with five breakpoints is refused with its file, line and field before anything is sent', { timeout: 60_000 }, async () => {
    const before = stack.emulator.stats();
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'sluice-cache-')), 'input.jsonl');
    const five = [1, 2, 3, 4, 5].map((i) => ({ type: 'text', text: `part ${i}`, cache_control: { type: 'ephemeral' } }));
    const lines = [{ params: { messages: [{ role: 'user', content: 'ok' }] } }, { params: { system: five, messages: [{ role: 'user', content: 'too many' }] } }];
    await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const start = startJob({
      client: stack.env.client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file,
      workflowId: `cache-${randomUUID()}`,
      defaults: { model: MODEL, max_tokens: 16 },
      options: { ...FAST_POLL, cachePrefix: { ttl: '1h' } },
    });
    await assert.rejects(start, (err: Error) => {
      assert.equal(err.name, 'InputError');
      assert.match(err.message, /input\.jsonl:2: params\.system\[4\]: is cache breakpoint 5: the API allows at most 4 blocks with cache_control/);
      return true;
    });
    assert.equal(stack.emulator.stats().calls.create, before.calls.create, 'nothing sent');
  });
});
