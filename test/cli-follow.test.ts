// `sluice run` and `sluice results` against a real Temporal dev server, as a user meets them: a job with no worker
// is said within seconds (with how to start one), Ctrl-C says the job goes on and how to get its results (exit 130),
// `-` reads standard input end to end, and `sluice results` never destroys what is in its way (an unknown job leaves
// an existing results.jsonl alone; a planted link is replaced, its target untouched).
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { startStack, type TestStack } from './helpers/stack';
import { startSluice, sluice } from './helpers/cli';
import { uniqueTaskQueue } from './helpers/temporal';

describe('sluice run and sluice results on a real server', () => {
  let stack: TestStack;
  let worker: Worker;
  let running: Promise<void>;
  let dir: string;
  const request = (content: string) => JSON.stringify({ params: { messages: [{ role: 'user', content }] } });

  before(async () => {
    stack = await startStack();
    worker = await stack.startWorker();
    running = worker.run();
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cli-follow-'));
    await writeFile(path.join(dir, 'two.jsonl'), [request('Say hello.'), request('Say goodbye.')].join('\n') + '\n');
  });
  after(async () => {
    worker.shutdown();
    await running;
    await stack.close();
  });

  const envFor = (taskQueue: string) => ({
    TEMPORAL_ADDRESS: stack.env.address,
    SLUICE_TASK_QUEUE: taskQueue,
    SLUICE_STORE_DIR: stack.storeDir,
    SLUICE_STATE_DIR: path.join(dir, 'state'),
    SLUICE_WEB_UI: 'http://127.0.0.1:8233',
  });
  const shape = ['--model', 'claude-haiku-4-5', '--max-tokens', '16', '--poll-initial', '200ms', '--poll-cap', '1s'];

  describe('no worker on the task queue', () => {
    test('--detach says so within seconds, and how to start one', { timeout: 60_000 }, async () => {
      const r = await sluice(
        ['run', path.join(dir, 'two.jsonl'), '--detach', ...shape],
        envFor(uniqueTaskQueue('idle')),
      );
      assert.equal(r.code, 0, r.out);
      assert.match(
        r.out,
        /No worker is polling task queue "idle-\w+" on 127\.0\.0\.1:\d+: the job waits until one does\./,
      );
      assert.match(r.out, /Start one in another terminal: `sluice worker`/);
    });

    test('with a worker there is no such warning', { timeout: 60_000 }, async () => {
      const r = await sluice(['run', path.join(dir, 'two.jsonl'), '--detach', ...shape], envFor(stack.taskQueue));
      assert.equal(r.code, 0, r.out);
      assert.doesNotMatch(r.out, /No worker/);
    });
  });

  describe('Ctrl-C while following', () => {
    test('exits 130 saying the job goes on and how to get its results', { timeout: 60_000 }, async () => {
      const out = path.join(dir, 'interrupted');
      const p = startSluice(
        ['run', path.join(dir, 'two.jsonl'), '--out', out, ...shape],
        envFor(uniqueTaskQueue('idle')),
      );
      await p.waitFor(/No worker is polling/);
      p.child.kill('SIGINT');
      const r = await p.done;
      assert.equal(r.code, 130, r.out);
      const id = /Started (sluice-job-\S+):/.exec(r.out)![1]!;
      assert.match(r.out, /Interrupted: stopped following\./);
      assert.ok(r.out.includes(`The job ${id} goes on without this command.`), r.out);
      assert.ok(r.out.includes(`sluice results ${id} --out ${out}`), r.out);
    });
  });

  describe('standard input', () => {
    test('`sluice run -` runs what is piped in, to the end', { timeout: 90_000 }, async () => {
      const out = path.join(dir, 'stdin-out');
      const r = await sluice(['run', '-', '--out', out, '--mode', 'batch', ...shape], envFor(stack.taskQueue), {
        stdin: [request('One.'), request('Two.'), request('Three.')].join('\n') + '\n',
      });
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /Started sluice-job-stdin-\d{8}-\d{6}-[a-z0-9]+: 3 requests\./);
      const lines = (await readFile(path.join(out, 'results.jsonl'), 'utf8')).trim().split('\n');
      assert.equal(lines.length, 3);
      assert.ok(lines.every((l) => (JSON.parse(l) as { status: string }).status === 'succeeded'));
    });

    test('a bad line on standard input is named <stdin>:line, nothing is sent', { timeout: 60_000 }, async () => {
      const r = await sluice(['run', '-', ...shape], envFor(stack.taskQueue), {
        stdin: request('fine') + '\n{"params": 5}\n',
      });
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /^ {2}<stdin>:2: params: /m);
      assert.match(r.out, /Nothing was sent\./);
    });
  });

  describe('sluice results never destroys what is in its way', () => {
    let jobId: string;
    before(async () => {
      const r = await sluice(
        ['run', path.join(dir, 'two.jsonl'), '--out', path.join(dir, 'first'), '--mode', 'batch', ...shape],
        envFor(stack.taskQueue),
      );
      assert.equal(r.code, 0, r.out);
      jobId = /Started (sluice-job-\S+):/.exec(r.out)![1]!;
    });

    test('an unknown job: refused, and an existing results.jsonl is left as it was', { timeout: 60_000 }, async () => {
      const out = path.join(dir, 'keep');
      await mkdir(out);
      await writeFile(path.join(out, 'results.jsonl'), 'precious\n');
      const r = await sluice(['results', 'sluice-job-nothing-20260101-000000', '--out', out], envFor(stack.taskQueue));
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /sluice-job-nothing-20260101-000000 has no results: no such job, or it has not finished/);
      assert.equal(await readFile(path.join(out, 'results.jsonl'), 'utf8'), 'precious\n');
    });

    test(
      'a planted link is replaced by the file; the file it pointed at is untouched',
      { timeout: 60_000 },
      async () => {
        const out = path.join(dir, 'planted');
        await mkdir(out);
        const victim = path.join(dir, 'victim.txt');
        await writeFile(victim, 'do not overwrite\n');
        await symlink(victim, path.join(out, 'results.jsonl'));
        const r = await sluice(['results', jobId, '--out', out], envFor(stack.taskQueue));
        assert.equal(r.code, 0, r.out);
        assert.equal(await readFile(victim, 'utf8'), 'do not overwrite\n');
        assert.equal((await lstat(path.join(out, 'results.jsonl'))).isSymbolicLink(), false);
        assert.equal((await readFile(path.join(out, 'results.jsonl'), 'utf8')).trim().split('\n').length, 2);
      },
    );
  });
});
