// `sluice status` when no worker answers a job's query, on a real dev server: it says once that it asks again, waits
// SLUICE_QUERY_PATIENCE_MS, and fails with one line naming the job and its task queue (exit 1, no stack); a worker
// that starts during the patience answers, also after the job's worker was SIGKILLed; a job that does not exist, or
// an unknown query, is never asked again.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startJob } from '../src/client/jobs';
import { NoWorkerAnsweredError, queryPatiently } from '../src/client/query-patience';
import { FAST_EMULATOR, startStack, writeJobInput, type TestStack } from './helpers/stack';
import { workerProcesses, type WorkerProcesses } from './helpers/worker-processes';
import { sluice, startSluice } from './helpers/cli';

const NOTICE = /no worker has answered yet; asking again for up to [\d.]+ s/g;

describe('CLI queries with patience while no worker answers', () => {
  let stack: TestStack;
  let dir: string;

  before(async () => {
    stack = await startStack();
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-query-patience-'));
  });
  after(async () => {
    await stack.close();
  });

  const envFor = (patienceMs: number) => ({
    TEMPORAL_ADDRESS: stack.env.address,
    SLUICE_TASK_QUEUE: stack.taskQueue,
    SLUICE_STORE_DIR: stack.storeDir,
    SLUICE_STATE_DIR: path.join(dir, 'state'),
    SLUICE_QUERY_PATIENCE_MS: String(patienceMs),
  });

  /** A job started on the stack's queue, where no worker runs yet. */
  async function jobWithoutWorker(): Promise<string> {
    const file = await writeJobInput(2);
    const { workflowId } = await startJob({
      client: stack.env.client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file,
      defaults: { model: 'claude-haiku-4-5', max_tokens: 16 },
    });
    return workflowId;
  }

  test('a job no worker serves: one notice, then a clear error naming the job and its queue (exit 1)', { timeout: 90_000 }, async () => {
    const job = await jobWithoutWorker();
    const r = await sluice(['status', job], envFor(2_500));
    assert.equal(r.code, 1, r.out);
    assert.equal(r.out.match(NOTICE)?.length, 1, r.out);
    assert.match(r.out, /asking again for up to 2\.5 s/);
    assert.match(r.out, new RegExp(`No worker answered a query to job ${job} within [\\d.]+ s\\. Is a worker running on task queue "${stack.taskQueue}"\\?`));
    assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
    assert.doesNotMatch(r.out, /Failed to query Workflow|DEADLINE_EXCEEDED/);
  });

  test('a worker that starts during the patience answers, and status prints the progress', { timeout: 120_000 }, async () => {
    const job = await jobWithoutWorker();
    const worker = await stack.startWorker();
    const cli = startSluice(['status', job], envFor(20_000));
    await cli.waitFor(/no worker has answered yet/);
    const running = worker.run();
    try {
      const r = await cli.done;
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, new RegExp(`${job}: \\w+`));
      assert.match(r.out, /done {7}\d+\/2/);
      assert.equal(r.out.match(NOTICE)?.length, 1, r.out);
    } finally {
      worker.shutdown();
      await running;
    }
  });

  test('a worker shut down after running the job: status waits the patience and says what to check', { timeout: 120_000 }, async () => {
    const job = await jobWithoutWorker();
    const worker = await stack.startWorker();
    const running = worker.run();
    assert.equal((await sluice(['status', job], envFor(20_000))).code, 0);
    worker.shutdown();
    await running;
    const r = await sluice(['status', job], envFor(2_500));
    assert.equal(r.code, 1, r.out);
    assert.equal(r.out.match(NOTICE)?.length, 1, r.out);
    assert.match(r.out, new RegExp(`No worker answered a query to job ${job}.*task queue "${stack.taskQueue}"`));
  });

  test('an intake no worker serves: intake status and intake request fail clearly after the patience', { timeout: 90_000 }, async () => {
    const name = `idle-${randomUUID().slice(0, 8)}`;
    const created = await sluice(['intake', 'create', name], envFor(0));
    assert.equal(created.code, 0, created.out);
    for (const args of [['intake', 'status', name], ['intake', 'request', name, 'r-1']]) {
      const r = await sluice(args, envFor(2_000));
      assert.equal(r.code, 1, r.out);
      assert.equal(r.out.match(NOTICE)?.length, 1, r.out);
      assert.match(r.out, new RegExp(`No worker answered a query to intake ${name} within [\\d.]+ s\\. Is a worker running on task queue "${stack.taskQueue}"\\?`));
      assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
    }
  });

  test('a patience that is not a whole number of ms is refused, naming the setting (exit 2)', { timeout: 60_000 }, async () => {
    for (const value of ['soon', '1.5', '-1']) {
      const r = await sluice(['status', 'sluice-job-none-20260101-000000-0000000'], { ...envFor(0), SLUICE_QUERY_PATIENCE_MS: value });
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /Error: SLUICE_QUERY_PATIENCE_MS: must be/);
    }
  });

  test('a job that does not exist is not asked again', { timeout: 60_000 }, async () => {
    const r = await sluice(['status', 'sluice-job-none-20260101-000000-0000000'], envFor(30_000));
    assert.notEqual(r.code, 0, r.out);
    assert.doesNotMatch(r.out, NOTICE);
    assert.doesNotMatch(r.out, /No worker answered/);
  });

  test('an unknown query is answered at once by a worker and never asked again', { timeout: 90_000 }, async () => {
    const job = await jobWithoutWorker();
    const worker = await stack.startWorker();
    const running = worker.run();
    try {
      const handle = stack.env.client.workflow.getHandle(job);
      await assert.rejects(
        queryPatiently(stack.env.client, { what: `job ${job}`, workflowId: job }, { patienceMs: 30_000 }, () =>
          handle.query('noSuchQuery'),
        ),
        (err: Error) => err.name === 'QueryNotRegisteredError' && !(err instanceof NoWorkerAnsweredError),
      );
    } finally {
      worker.shutdown();
      await running;
    }
  });
});

describe('CLI queries right after a worker is SIGKILLed', () => {
  let stack: TestStack;
  let workers: WorkerProcesses;
  let dir: string;

  before(async () => {
    // Batches that take a minute of real time: the job is still running (between polls) when its worker dies.
    stack = await startStack({ ...FAST_EMULATOR, timeScale: 1 });
    workers = await workerProcesses(stack);
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-query-kill-'));
  });
  after(async () => {
    await workers.killAll();
    await stack.close();
  });

  test('status fails clearly while no worker runs, and answers once another worker runs', { timeout: 180_000 }, async () => {
    const env = (patienceMs: number) => ({
      TEMPORAL_ADDRESS: stack.env.address,
      SLUICE_TASK_QUEUE: stack.taskQueue,
      SLUICE_STORE_DIR: stack.storeDir,
      SLUICE_STATE_DIR: path.join(dir, 'state'),
      SLUICE_QUERY_PATIENCE_MS: String(patienceMs),
    });
    const file = await writeJobInput(2);
    const { workflowId: job } = await startJob({
      client: stack.env.client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file,
      defaults: { model: 'claude-haiku-4-5', max_tokens: 16 },
    });
    await workers.start();
    const first = await sluice(['status', job], env(30_000));
    assert.equal(first.code, 0, first.out);
    await workers.killAll();

    const alone = await sluice(['status', job], env(2_500));
    assert.equal(alone.code, 1, alone.out);
    assert.match(alone.out, new RegExp(`No worker answered a query to job ${job}.*task queue "${stack.taskQueue}"`));
    assert.doesNotMatch(alone.out, /\n\s+at /, 'no stack trace');

    await workers.start();
    const again = await sluice(['status', job], env(60_000));
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, new RegExp(`${job}: \\w+`));
  });
});
