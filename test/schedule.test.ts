// Recurring audits on real Temporal Schedules (the dev server) with the emulator, in compressed time.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { Worker } from '@temporalio/worker';
import {
  createSchedule,
  deleteSchedule,
  describeSchedule,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
  type ScheduleRun,
  type ScheduleView,
} from '../src/client/schedules';
import { auditKeys, auditStamp, type ReconcileOptionsInput } from '../src/domain/audit';
import { ConfigError } from '../src/domain/errors';
import { jobKeys } from '../src/domain/job';
import type { BatchIndexEntry } from '../src/activities/submit';
import { SluiceJobName, SluicePhase } from '../src/workflows/search-attributes';
import { startStack, type TestStack } from './helpers/stack';

const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 32 };
const FAST_JOB = { poll: { initialMs: 200, growth: 1.5, capMs: 500 } };
/** The emulator's clock runs 1,000× faster than the worker's: age rules off. */
const NO_GRACE: ReconcileOptionsInput = { orphanGraceMs: 0, uncollectedGraceMs: 0 };
const EVERY_MS = 2_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(200);
  }
}

const request = (id: string) => JSON.stringify({ custom_id: id, params: { messages: [{ role: 'user', content: `Audit ${id}.` }] } });

async function startRunning(stack: TestStack): Promise<{ worker: Worker; running: Promise<void> }> {
  const worker = await stack.startWorker();
  return { worker, running: worker.run() };
}

function anthropicFor(stack: TestStack) {
  return new Anthropic({ apiKey: stack.emulator.apiKey, baseURL: stack.emulator.url, maxRetries: 0 });
}

const completed = (d: ScheduleView) => d.recentRuns.filter((r) => r.status === 'COMPLETED');

describe('a schedule every 2 s', () => {
  let stack: TestStack;
  let running: Promise<void>;
  let inputDir: string;
  let orphanId: string;
  let uncollectedId: string;
  before(async () => {
    stack = await startStack();
    ({ running } = await startRunning(stack));
    // Two files, one bad line: the night's snapshot skips it into rejects and runs the other 24 requests.
    inputDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-audit-in-'));
    const a = Array.from({ length: 15 }, (_, i) => request(`a-${i}`));
    a[7] = '{"params": {"messages": "not a list"}}';
    await writeFile(path.join(inputDir, 'a.jsonl'), a.join('\n') + '\n');
    await writeFile(path.join(inputDir, 'b.jsonl'), Array.from({ length: 10 }, (_, i) => request(`b-${i}`)).join('\n') + '\n');
    await writeFile(path.join(inputDir, 'notes.txt'), 'not part of the input\n');

    // Behind Sluice's back: one batch nobody recorded (an orphan), and one recorded for a job that never
    // collected it (as if that job had been terminated).
    const api = anthropicFor(stack);
    const twoRequests = { requests: [0, 1].map((i) => ({ custom_id: `x-${i}`, params: { ...DEFAULTS, messages: [{ role: 'user' as const, content: 'hi' }] } })) };
    orphanId = (await api.messages.batches.create(twoRequests)).id;
    const recorded = await api.messages.batches.create(twoRequests);
    uncollectedId = recorded.id;
    const entry: BatchIndexEntry = { jobId: 'sluice-job-gone-20260101-000000', shardKey: 's000000', requests: 2, createdAtMs: Date.parse(recorded.created_at) };
    await stack.store.writeJson(jobKeys.batch(recorded.id), entry);
  });
  after(async () => {
    await stack.close();
    await running;
  });

  test('runs twice, each run a completed audit whose job results are in the store; orphans reported, uncollected copied once', async () => {
    const client = stack.env.client;
    const created = await createSchedule({
      client,
      taskQueue: stack.taskQueue,
      name: 'nightly',
      audit: { input: inputDir, defaults: DEFAULTS, job: FAST_JOB, reconcile: NO_GRACE },
      cadence: { everyMs: EVERY_MS },
    });
    assert.equal(created.scheduleId, 'sluice-schedule-nightly');
    assert.equal(created.cadence.text, 'every 2s');
    assert.ok(created.nextRuns.length > 0);

    const d = await waitFor('two completed runs', async () => {
      const view = await describeSchedule(client, 'nightly');
      return completed(view).length >= 2 ? view : undefined;
    }, 30_000);
    const runs = completed(d).slice(0, 2);
    for (const run of runs) {
      const r = run.result!;
      assert.match(run.workflowId, /^sluice-audit-nightly-/);
      assert.match(r.jobId, /^sluice-job-nightly-\d{8}-\d{6}$/);
      // Named after the time the run was due (TemporalScheduledStartTime), not when a worker picked it up.
      assert.equal(r.scheduledAt, run.scheduledAt.toISOString());
      assert.equal(r.jobId, `sluice-job-nightly-${auditStamp(run.scheduledAt.getTime())}`);
      assert.deepEqual(
        { files: r.snapshot!.files, requests: r.snapshot!.requestCount, rejected: r.snapshot!.rejected },
        { files: 2, requests: 24, rejected: 1 },
      );
      assert.equal(r.job!.succeeded, 24);
      const results: string[] = [];
      for await (const line of stack.store.readLines(jobKeys.output(r.jobId, 'results.jsonl'))) results.push(line);
      assert.equal(results.length, 24, `${r.jobId}: one result per valid request`);
      const rejects: string[] = [];
      for await (const line of stack.store.readLines(jobKeys.rejects(r.jobId))) rejects.push(line);
      assert.match(rejects[0]!, /a\.jsonl","line":8/);
      // Only the batch made behind Sluice's back is an orphan: every batch the jobs created is recorded.
      assert.deepEqual(r.reconcile.orphans.map((o) => [o.batchId, o.canceled]), [[orphanId, false]]);
      assert.ok(await stack.store.exists(r.reconcile.reportKey), 'the report is in the store');
      assert.match(r.reconcile.reportKey, /^audits\/nightly\/\d{8}-\d{6}\.json$/);
    }
    assert.notEqual(runs[0]!.result!.jobId, runs[1]!.result!.jobId);

    const [first, second] = runs.map((r) => r.result!.reconcile);
    assert.deepEqual(first!.uncollected.map((u) => [u.batchId, u.jobId, u.lines]), [[uncollectedId, 'sluice-job-gone-20260101-000000', 2]]);
    const copied: string[] = [];
    for await (const line of stack.store.readLines(auditKeys.uncollected(uncollectedId))) copied.push(line);
    assert.deepEqual(copied.map((l) => (JSON.parse(l) as { custom_id: string }).custom_id).sort(), ['x-0', 'x-1']);
    assert.equal(second!.uncollectedCount, 0, 'copied once');
    assert.equal(second!.alreadyCopied, 1);

    // What the Web UI shows: search attributes, static summary and details, on the audit and on its job.
    const audit = await client.workflow.getHandle(runs[0]!.workflowId).describe();
    assert.equal(audit.typedSearchAttributes.get(SluicePhase), 'done');
    assert.equal(audit.typedSearchAttributes.get(SluiceJobName), 'nightly');
    assert.match((await audit.staticSummary()) ?? '', /Sluice audit "nightly"/);
    assert.match((await audit.staticDetails()) ?? '', /\*\*When\*\* every 2s/);
    const job = await client.workflow.getHandle(runs[0]!.result!.jobId).describe();
    assert.equal(job.typedSearchAttributes.get(SluicePhase), 'done');
    assert.match((await job.staticSummary()) ?? '', /Sluice job "nightly": 24 requests/);
    assert.match((await job.staticDetails()) ?? '', /Started by\*\* audit sluice-audit-nightly-/);
  });

  test('pause stops runs, trigger runs now, unpause resumes, delete removes', async () => {
    const client = stack.env.client;
    await pauseSchedule(client, 'nightly');
    const settled = await waitFor('runs in progress to finish', async () => {
      const view = await describeSchedule(client, 'nightly');
      return view.running.length === 0 ? view : undefined;
    });
    assert.equal(settled.paused, true);
    // A real wait on purpose: "no run while paused" is a negative over time on the Temporal server's clock (the
    // schedule's, which the emulator's clock does not move), so three periods pass in which a run would be due.
    await sleep(3 * EVERY_MS);
    const paused = await describeSchedule(client, 'nightly');
    assert.equal(paused.actionsTaken, settled.actionsTaken, 'no run while paused');

    await triggerSchedule(client, 'nightly');
    const triggered = await waitFor('the triggered run to complete', async () => {
      const view = await describeSchedule(client, 'nightly');
      const last: ScheduleRun | undefined = view.recentRuns.at(-1);
      return view.actionsTaken === settled.actionsTaken + 1 && last?.status === 'COMPLETED' ? view : undefined;
    });
    assert.equal(triggered.paused, true, 'a trigger does not unpause');
    assert.equal(triggered.recentRuns.at(-1)!.result!.job!.succeeded, 24);

    await unpauseSchedule(client, 'nightly');
    await waitFor('a scheduled run after unpause', async () => {
      const view = await describeSchedule(client, 'nightly');
      return view.actionsTaken > triggered.actionsTaken ? view : undefined;
    });

    await waitFor('list to show the schedule', async () =>
      (await listSchedules(client)).find((s) => s.name === 'nightly' && s.cadence === 'every 2s' && s.input === inputDir),
    );
    await deleteSchedule(client, 'nightly');
    await assert.rejects(describeSchedule(client, 'nightly'), (err: unknown) => err instanceof ConfigError && /no schedule named "nightly"/.test(err.message));
    await waitFor('list to drop the schedule', async () => ((await listSchedules(client)).some((s) => s.name === 'nightly') ? undefined : true));
  });
});

describe('orphan batches', () => {
  let stack: TestStack;
  let running: Promise<void>;
  let input: string;
  before(async () => {
    // Real-time emulator: a batch stays in progress for at least 30 s. The audit's own one-request job goes
    // through the synchronous API (dual mode), so it needs no batch.
    stack = await startStack({ timeScale: 1 });
    ({ running } = await startRunning(stack));
    input = path.join(await mkdtemp(path.join(os.tmpdir(), 'sluice-audit-one-')), 'one.jsonl');
    await writeFile(input, request('only') + '\n');
  });
  after(async () => {
    await stack.close();
    await running;
  });

  async function runOnce(name: string, reconcile: ReconcileOptionsInput) {
    const client = stack.env.client;
    await createSchedule({
      client,
      taskQueue: stack.taskQueue,
      name,
      audit: { input, defaults: DEFAULTS, job: FAST_JOB, reconcile },
      cadence: { everyMs: '1h' },
      paused: true,
    });
    await triggerSchedule(client, name);
    const view = await waitFor(`${name} to complete a run`, async () => {
      const v = await describeSchedule(client, name);
      return completed(v).length > 0 ? v : undefined;
    });
    await deleteSchedule(client, name);
    return completed(view)[0]!.result!;
  }

  test('one created behind Sluice\u2019s back is reported, and canceled when cancelOrphans is set', async () => {
    const api = anthropicFor(stack);
    const orphan = await api.messages.batches.create({
      requests: [{ custom_id: 'behind-its-back', params: { ...DEFAULTS, messages: [{ role: 'user', content: 'hi' }] } }],
    });

    const reported = await runOnce('orphans-report', { orphanGraceMs: 0 });
    assert.equal(reported.job!.succeeded, 1);
    assert.deepEqual(
      reported.reconcile.orphans.map((o) => ({ id: o.batchId, status: o.status, canceled: o.canceled })),
      [{ id: orphan.id, status: 'in_progress', canceled: false }],
    );
    assert.equal(stack.emulator.stats().calls.cancel, 0, 'reported only');
    assert.equal((await api.messages.batches.retrieve(orphan.id)).processing_status, 'in_progress');
    const report = await stack.store.readJson<{ reconcile: { orphans: { batchId: string }[] } }>(reported.reconcile.reportKey);
    assert.deepEqual(report!.reconcile.orphans.map((o) => o.batchId), [orphan.id]);

    const young = await runOnce('orphans-grace', { orphanGraceMs: '1h', cancelOrphans: true });
    assert.equal(young.reconcile.orphanCount, 0, 'younger than the grace period: left alone');
    assert.equal(young.reconcile.young, 1);

    const canceled = await runOnce('orphans-cancel', { orphanGraceMs: 0, cancelOrphans: true });
    assert.deepEqual(
      canceled.reconcile.orphans.map((o) => ({ id: o.batchId, canceled: o.canceled })),
      [{ id: orphan.id, canceled: true }],
    );
    assert.equal(stack.emulator.stats().calls.cancel, 1);
    assert.equal((await api.messages.batches.retrieve(orphan.id)).processing_status, 'canceling');
  });
});
