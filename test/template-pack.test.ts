// Templates and --pack end to end on the real dev server and the emulator: a CSV of 10 rows packed 4 to a prompt,
// one pack answered malformed (a targeted fault aimed at its content): its 4 rows are sent again alone, as
// single-row prompts (the emulator's prompt counts prove it), none is lost, and every row has exactly one
// outcome, filed under its own custom_id. Also: `sluice run ROWS --template` refuses a row lacking a column with a
// located error, exit code 2, and nothing sent.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { downloadResults, startJob, waitForJob } from '../src/client/jobs';
import { readTemplateFile } from '../src/client/template-file';
import { templateLines } from '../src/client/template-input';
import type { OutcomeLine } from '../src/domain/job';
import { sluice } from './helpers/cli';
import { FAST_EMULATOR, readJsonl, startStack, type TestStack } from './helpers/stack';
import { sendsByCustomId } from './helpers/wire';

const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const TEMPLATE = '---\nmodel: claude-haiku-5-5\nmax_tokens: 300\nsystem: You judge product reviews.\n---\nSay whether each review is positive, negative or mixed.\n{{#each}}\nReview {{@n}}: "{{title}}"\n{{text}}\n{{/each}}\n';
const ROWS = Array.from({ length: 10 }, (_, i) => ({ id: `rev-${i + 1}`, title: i === 5 ? 'Broken-on-arrival' : `Title ${i + 1}`, text: `Body, "quoted", of review ${i + 1}` }));
const csv = (rows: typeof ROWS) =>
  ['id,title,text', ...rows.map((r) => [r.id, r.title, r.text].map((v) => `"${v.replace(/"/g, '""')}"`).join(','))].join('\r\n') + '\r\n';

describe('prompts from a template over rows', () => {
  let stack: TestStack;
  let dir: string;
  before(async () => {
    // Packs whose text holds row 6's title come back one answer short.
    stack = await startStack({ ...FAST_EMULATOR, faults: { malformedAnswers: ['Broken-on-arrival'] } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-pack-'));
  });
  after(() => stack.close());

  test('--pack 4: one malformed answer sends its rows again alone; every row one outcome, none lost', { timeout: 120_000 }, async () => {
    const rowsFile = path.join(dir, 'reviews.csv');
    const templateFile = path.join(dir, 'prompt.md');
    await writeFile(rowsFile, csv(ROWS));
    await writeFile(templateFile, TEMPLATE);
    const { template, defaults } = await readTemplateFile(templateFile);
    const worker = await stack.startWorker();
    const client = stack.env.client;
    const { workflowId, prepared } = await startJob({
      client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file: rowsFile,
      defaults,
      options: FAST_POLL,
      lines: templateLines({ rowsFile, template, pack: 4, maxLineBytes: 1_000_000 }),
    });
    assert.equal(prepared.requestCount, 3, '10 rows in prompts of 4, 4 and 2');
    const summary = await worker.runUntil(waitForJob(client, workflowId));

    assert.equal(summary.requests, 10, 'the summary counts rows');
    assert.equal(summary.outcomes.succeeded, 10);
    assert.deepEqual(summary.packing && { ...summary.packing, inputTokensPerRow: undefined }, {
      rows: 10,
      prompts: 3,
      unusableAnswers: 1,
      rowsRetriedAlone: 4,
      inputTokensPerRow: undefined,
      costPerRowUsd: summary.packing?.costPerRowUsd,
    });
    const perRow = summary.packing!.inputTokensPerRow!;
    assert.equal(perRow.measuredRows, 10);
    assert.ok(perRow.packed < perRow.unpacked, `packing shares the instructions: ${perRow.packed} < ${perRow.unpacked} tokens a row`);

    const stats = stack.emulator.stats();
    assert.deepEqual(stats.prompts, { single: 4, packedByItems: { '4': 2, '2': 1 } }, 'the retry went as 4 single-row prompts, not as a pack');
    const sends = await sendsByCustomId(stack.store, stats);
    assert.deepEqual(
      Object.entries(sends).map(([id, s]) => [id, s.batch]).sort(),
      [['pack.000001', 1], ['pack.000002', 1], ['pack.000003', 1], ['rev-5', 1], ['rev-6', 1], ['rev-7', 1], ['rev-8', 1]],
      'each pack sent once; the malformed pack\'s rows once more each, alone',
    );

    const out = await mkdtemp(path.join(dir, 'out-'));
    await downloadResults(stack.store, workflowId, out);
    const results = await readJsonl<OutcomeLine>(path.join(out, 'results.jsonl'));
    assert.deepEqual(results.map((r) => r.custom_id), ROWS.map((r) => r.id), 'one outcome per row, in row order');
    assert.deepEqual(results.map((r) => r.line), ROWS.map((_, i) => i + 2), 'lines of the rows file');
    for (const r of results.filter((x) => ['rev-5', 'rev-6', 'rev-7', 'rev-8'].includes(x.custom_id))) {
      assert.equal(r.status, 'succeeded');
      assert.equal(r.pack, undefined, `${r.custom_id} was answered alone`);
      assert.equal(r.attempts, 2, 'sent in its pack, then alone');
      assert.match((r.message as { content: { text: string }[] }).content[0]!.text, /^Synthetic reply/);
    }
    const packed = results.filter((x) => x.pack);
    assert.deepEqual(packed.map((r) => [r.custom_id, r.pack!.id, r.pack!.index, r.pack!.of]), [
      ['rev-1', 'pack.000001', 0, 4],
      ['rev-2', 'pack.000001', 1, 4],
      ['rev-3', 'pack.000001', 2, 4],
      ['rev-4', 'pack.000001', 3, 4],
      ['rev-9', 'pack.000003', 0, 2],
      ['rev-10', 'pack.000003', 1, 2],
    ]);
    assert.deepEqual(packed.map((r) => String(r.answer).replace(/:.*/, '')), ['answer 1', 'answer 2', 'answer 3', 'answer 4', 'answer 1', 'answer 2']);
  });

  test('the synchronous lane unpacks too: the malformed pack\'s rows are sent alone at once, none lost', { timeout: 120_000 }, async () => {
    const rowsFile = path.join(dir, 'reviews-sync.csv');
    const templateFile = path.join(dir, 'prompt-sync.md');
    await writeFile(rowsFile, csv(ROWS));
    await writeFile(templateFile, TEMPLATE);
    const { template, defaults } = await readTemplateFile(templateFile);
    const worker = await stack.startWorker();
    const client = stack.env.client;
    const syncBefore = stack.emulator.stats().calls.messages;
    const { workflowId } = await startJob({
      client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file: rowsFile,
      name: 'sync-pack',
      defaults,
      options: { ...FAST_POLL, sla: { mode: 'sync' } },
      lines: templateLines({ rowsFile, template, pack: 4, maxLineBytes: 1_000_000 }),
    });
    const summary = await worker.runUntil(waitForJob(client, workflowId));
    assert.equal(summary.outcomes.succeeded, 10);
    assert.equal(summary.byMode.sync, 10);
    assert.equal(summary.packing?.rowsRetriedAlone, 4);
    assert.equal(stack.emulator.stats().calls.messages - syncBefore, 3 + 4, 'three packed calls, then four rows alone');
    const out = await mkdtemp(path.join(dir, 'out-sync-'));
    await downloadResults(stack.store, workflowId, out);
    const results = await readJsonl<OutcomeLine>(path.join(out, 'results.jsonl'));
    assert.deepEqual(results.map((r) => r.custom_id), ROWS.map((r) => r.id));
    assert.deepEqual(results.filter((r) => !r.pack).map((r) => r.custom_id), ['rev-5', 'rev-6', 'rev-7', 'rev-8']);
    assert.ok(results.every((r) => r.status === 'succeeded' && r.mode === 'sync'));
  });

  test('`sluice run ROWS --template`: a row lacking a column is refused, located, exit code 2, nothing sent', { timeout: 120_000 }, async () => {
    const rowsFile = path.join(dir, 'short.csv');
    const templateFile = path.join(dir, 'prompt-short.md');
    await writeFile(rowsFile, 'id,title,text\nr1,A,x\nr2,B\n');
    await writeFile(templateFile, TEMPLATE);
    const before = stack.emulator.stats().calls;
    const run = await sluice(['run', rowsFile, '--template', templateFile, '--pack', '2'], {
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
      SLUICE_TASK_QUEUE: stack.taskQueue,
      SLUICE_STORE_DIR: stack.storeDir,
      ANTHROPIC_API_KEY: stack.emulator.apiKey,
      ANTHROPIC_BASE_URL: stack.emulator.url,
    });
    assert.equal(run.code, 2, run.out);
    assert.match(run.out, /short\.csv:3: column "text": missing, used by .*prompt-short\.md:9/);
    assert.match(run.out, /Nothing was sent/);
    const calls = stack.emulator.stats().calls;
    assert.equal(calls.create, before.create, 'no batch created');
    assert.equal(calls.messages, before.messages, 'no message sent');
  });
});
