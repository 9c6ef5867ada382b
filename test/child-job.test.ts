// A Sluice job started from a user's own workflow, on a worker that has the user's workflows plus the SluicePlugin:
// the parent queries and cancels its job, a canceled parent cancels its job too, and bad input or options fail the
// parent with the place and the reason before any job starts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { jobProgress, waitForJob } from '../src/client/jobs';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import { SluicePlugin } from '../src/plugin';
import { LocalDirectoryStore } from '../src/store/local-store';
import type { parentAwaitsItsJob, parentCancelsItsJob } from './fixtures/parent-workflows';
import { writeJobInput } from './helpers/stack';
import { testEnv, uniqueTaskQueue } from './helpers/temporal';

/** A batch runs 6 s (real): long enough to be canceled while in flight. */
const BATCH_REAL_MS = 6_000;

describe('a Sluice job as the child of a user workflow', () => {
  let env: Awaited<ReturnType<typeof testEnv>>;
  let emulator: EmulatorHandle;
  let store: LocalDirectoryStore;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('child');

  before(async () => {
    env = await testEnv();
    emulator = await startEmulator({ timeScale: 0.001, seed: 3, latency: { batch: { kind: 'fixed', ms: BATCH_REAL_MS * 1_000 }, spread: 0.9 } });
    store = new LocalDirectoryStore(await mkdtemp(path.join(os.tmpdir(), 'sluice-store-')));
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./fixtures/parent-workflows'),
      plugins: [new SluicePlugin({ store, anthropic: { apiKey: emulator.apiKey, baseURL: emulator.url } })],
    });
    running = worker.run();
  });
  after(async () => {
    worker.shutdown();
    await running;
    await emulator.close();
  });

  const jobIdFor = (what: string) => `child-${what}-${Math.random().toString(16).slice(2, 10)}`;

  test('the parent sees its job through the progress activity, cancels it, and gets the summary', { timeout: 60_000 }, async () => {
    const jobId = jobIdFor('cancel');
    const result = await env.client.workflow.execute<typeof parentCancelsItsJob>('parentCancelsItsJob', {
      taskQueue,
      workflowId: `parent-${jobId}`,
      args: [{ file: await writeJobInput(400), jobId }],
    });
    assert.equal(result.inFlightWhenCanceled, 2);
    assert.equal(result.summary.jobId, jobId);
    assert.equal(result.summary.requests, 400);
    assert.ok(result.summary.outcomes.canceled > 0, 'requests in flight were canceled');
    assert.equal(
      Object.values(result.summary.outcomes).reduce((a, b) => a + b, 0),
      400,
      'every request has one outcome',
    );
    assert.equal((await jobProgress(env.client, jobId)).phase, 'canceled');
  });

  test('canceling the parent cancels its job, which still completes with what it has', { timeout: 60_000 }, async () => {
    const jobId = jobIdFor('parent-canceled');
    const parent = await env.client.workflow.start<typeof parentAwaitsItsJob>('parentAwaitsItsJob', {
      taskQueue,
      workflowId: `parent-${jobId}`,
      args: [{ file: await writeJobInput(300), jobId }],
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const progress = await jobProgress(env.client, jobId).catch(() => undefined);
      if (progress && progress.batches.inFlight >= 2) break;
      assert.ok(Date.now() < deadline, 'the job has two batches in flight within 20 s');
      await sleep(100);
    }
    await parent.cancel();
    const failure = await parent.result().then(
      () => assert.fail('the canceled parent returned'),
      (err: unknown) => err,
    );
    assert.ok(failure instanceof WorkflowFailedError && failure.cause instanceof CancelledFailure, String(failure));
    const summary = await waitForJob(env.client, jobId);
    assert.ok(summary.outcomes.canceled > 0, 'the job canceled its batches');
    assert.equal((await env.client.workflow.getHandle(jobId).describe()).status.name, 'COMPLETED');
  });

  test('a bad input line fails the parent with its file, line and field; no job starts', { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bad-'));
    const file = path.join(dir, 'prompts.jsonl');
    await writeFile(file, ['{"params":{"messages":[{"role":"user","content":"fine"}]}}', '{"params":{"messages":"nope"}}', ''].join('\n'));
    const jobId = jobIdFor('bad-input');
    const failure = await env.client.workflow
      .execute<typeof parentAwaitsItsJob>('parentAwaitsItsJob', { taskQueue, workflowId: `parent-${jobId}`, args: [{ file, jobId }] })
      .then(
        () => assert.fail('the parent ran a job from bad input'),
        (err: unknown) => err,
      );
    const root = rootCause(failure);
    assert.ok(root instanceof ApplicationFailure, String(root));
    assert.equal(root.type, 'SluiceBadInput');
    assert.match(root.message, new RegExp(`${escape(file)}:2: params\\.messages`));
    await assert.rejects(env.client.workflow.getHandle(jobId).describe(), WorkflowNotFoundError);
    assert.equal(await store.exists(`jobs/${jobId}/input.jsonl`), false, 'nothing stored');
  });

  test('a job from a URL the worker reads: staged, run, summarized; a missing URL fails at once', { timeout: 60_000 }, async () => {
    const body = await readFile(await writeJobInput(7));
    const server = createServer((req, res) => {
      if (req.url === '/prompts.jsonl') res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(body);
      else res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    after(() => server.close());
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const jobId = jobIdFor('url');
    const summary = await env.client.workflow.execute<typeof parentAwaitsItsJob>('parentAwaitsItsJob', {
      taskQueue,
      workflowId: `parent-${jobId}`,
      args: [{ url: `${base}/prompts.jsonl`, jobId, options: { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } } }],
    });
    assert.equal(summary.requests, 7);
    assert.equal(summary.outcomes.succeeded, 7);

    const missingId = jobIdFor('url-missing');
    const failure = await env.client.workflow
      .execute<typeof parentAwaitsItsJob>('parentAwaitsItsJob', { taskQueue, workflowId: `parent-${missingId}`, args: [{ url: `${base}/gone.jsonl`, jobId: missingId }] })
      .then(
        () => assert.fail('the parent ran a job from a missing URL'),
        (err: unknown) => err,
      );
    const root = rootCause(failure);
    assert.ok(root instanceof ApplicationFailure, String(root));
    assert.equal(root.type, 'SluiceInputUnreadable');
    assert.match(root.message, /gone\.jsonl: HTTP 404/);
  });

  test('a bad option fails the parent naming the option, before anything is read or stored', { timeout: 30_000 }, async () => {
    const jobId = jobIdFor('bad-option');
    const failure = await env.client.workflow
      .execute<typeof parentAwaitsItsJob>('parentAwaitsItsJob', {
        taskQueue,
        workflowId: `parent-${jobId}`,
        args: [{ file: await writeJobInput(3), jobId, options: { batchSize: 0 } }],
      })
      .then(
        () => assert.fail('the parent ran a job with batchSize 0'),
        (err: unknown) => err,
      );
    const root = rootCause(failure);
    assert.ok(root instanceof ApplicationFailure, String(root));
    assert.equal(root.type, 'SluiceBadOptions');
    assert.match(root.message, /options\.batchSize/);
    assert.equal(await store.exists(`jobs/${jobId}/input.jsonl`), false, 'nothing stored');
  });
});

function rootCause(err: unknown): unknown {
  let e = err;
  while (e instanceof Error && e.cause) e = e.cause;
  return e;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
