// The API key and prompt text never appear in workflow history, worker logs, CLI output or error messages, also
// when requests fail: a job with terminal (invalid_request_error) and retried (overloaded, 429 on create) failures,
// and a job whose worker has a wrong key (401). Workers and CLI run as child processes through the real `sluice`
// command; their stdout and stderr, and the raw bytes of every workflow history, are searched.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';
import { uniqueTaskQueue } from './helpers/temporal';

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'src', 'cli', 'main.ts');
const tag = randomUUID().slice(0, 8);
const KEY = `sk-ant-SECRET-KEY-${tag}`;
const WRONG_KEY = `sk-ant-WRONG-KEY-${tag}`;
const PROMPT_MARKER = `SECRET-PROMPT-${tag}`;
const SYSTEM_MARKER = `SECRET-SYSTEM-${tag}`;
const SECRETS: [string, string][] = [
  ['the API key', KEY],
  ['the wrong API key', WRONG_KEY],
  ['prompt text', PROMPT_MARKER],
  ['prompt text', 'confidential memo'],
  ['the system prompt', SYSTEM_MARKER],
];

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function sluice(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = once(child, 'close').then(([code]) => code as number | null);
  return { child, output: () => out, exited };
}

describe('secrets', () => {
  let stack: TestStack;
  const procs: Proc[] = [];
  before(async () => {
    stack = await startStack({
      apiKey: KEY,
      timeScale: 0.001,
      seed: 5,
      latency: { batch: { kind: 'uniform', minMs: 20_000, maxMs: 150_000 } },
      faults: {
        errorCustomIds: { pattern: 'refused memo', in: 'messages', type: 'invalid_request_error', message: 'messages.0.content: Input is invalid' },
        resultErrors: { overloaded_error: 0.1 },
        rateLimit: { rate: 0.3, endpoints: ['create'], retryAfterSeconds: 0.1 },
      },
    });
  });
  after(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    }
    await stack.close();
  });

  async function worker(taskQueue: string, apiKey: string): Promise<Proc> {
    const p = sluice(['worker'], {
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
      SLUICE_TASK_QUEUE: taskQueue,
      SLUICE_STORE_DIR: stack.storeDir,
      ANTHROPIC_API_KEY: apiKey,
      ANTHROPIC_BASE_URL: stack.emulator.url,
      SLUICE_LOG_LEVEL: 'debug', // as talkative as it gets
    });
    procs.push(p);
    const deadline = Date.now() + 60_000;
    while (!p.output().includes('Sluice worker on')) {
      assert.ok(p.child.exitCode === null, `the worker exited:\n${p.output()}`);
      assert.ok(Date.now() < deadline, `the worker did not start:\n${p.output()}`);
      await sleep(50);
    }
    return p;
  }

  async function run(taskQueue: string, input: string, out: string): Promise<{ code: number | null; output: string }> {
    const p = sluice(
      ['run', input, '--name', path.basename(out), '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--system', `${SYSTEM_MARKER} You are a careful analyst.`, '--poll-initial', '200ms', '--poll-cap', '1s', '--out', out],
      {
        TEMPORAL_ADDRESS: stack.env.address,
        TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
        SLUICE_TASK_QUEUE: taskQueue,
        SLUICE_STORE_DIR: stack.storeDir,
        ANTHROPIC_API_KEY: KEY, // exported in the user's shell: the CLI must not print it either
      },
    );
    procs.push(p);
    return { code: await p.exited, output: p.output() };
  }

  async function historyBytes(taskQueue: string): Promise<{ ids: string[]; text: string }> {
    const client = stack.env.client;
    const ids: string[] = [];
    let text = '';
    for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
      ids.push(wf.workflowId);
      const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      text += Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('utf8');
    }
    return { ids, text };
  }

  test('a job with failing requests, and a job whose worker has a wrong key, leak nothing', { timeout: 120_000 }, async () => {
    const goodQueue = uniqueTaskQueue('secrets');
    const badQueue = uniqueTaskQueue('secrets-401');
    const [goodWorker, badWorker] = await Promise.all([worker(goodQueue, KEY), worker(badQueue, WRONG_KEY)]);
    const input = await writeJobInput(300, {
      customId: (i) => (i % 30 === 0 ? `fail-${i}` : `doc-${i}`),
      prompt: (i) => `${PROMPT_MARKER} Summarise the confidential ${i % 30 === 0 ? 'refused memo' : 'memo'} number ${i}.`,
    });
    const outDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-secrets-out-'));
    const [good, bad] = await Promise.all([run(goodQueue, input, path.join(outDir, 'good')), run(badQueue, input, path.join(outDir, 'bad'))]);

    // The failing job completes, its terminal failures in failures.jsonl with the API's message.
    assert.equal(good.code, 0, good.output);
    assert.match(good.output, /requests {3}300: \d+ succeeded, \d+ failed, 0 canceled, 0 not run/);
    const failures = (await readFile(path.join(outDir, 'good', 'failures.jsonl'), 'utf8')).trim().split('\n');
    const terminal = failures.filter((l) => l.includes('"custom_id":"fail-'));
    assert.equal(terminal.length, 10, 'every invalid request failed, with no retry');
    assert.ok(terminal.every((l) => l.includes('messages.0.content: Input is invalid')), "with the API's message");
    assert.ok(stack.emulator.stats().calls.create > stack.emulator.stats().batches, 'some creates were refused (429) and retried');
    // The 401: stopped at once, a clear message, exit code 1.
    assert.equal(bad.code, 1, bad.output);
    assert.match(bad.output, /^The job failed: Job \S+ stopped: create batch for s00000\d \(attempt 1\): authentication failed \(authentication_error\): check ANTHROPIC_API_KEY — invalid x-api-key$/m);

    const histories = await Promise.all([historyBytes(goodQueue), historyBytes(badQueue)]);
    assert.ok(histories.every((h) => h.ids.some((id) => id.startsWith('sluice-job-'))), 'both jobs were found');
    const bytes = histories.map((h) => h.text).join('');
    assert.ok(bytes.includes('authentication failed'), 'the search can see failure messages in history');
    const outputFiles = await Promise.all(
      ['good/results.jsonl', 'good/failures.jsonl', 'good/summary.json'].map((f) => readFile(path.join(outDir, f), 'utf8')),
    );

    const places: [string, string][] = [
      ['workflow history', bytes],
      ['the worker log', goodWorker.output()],
      ['the 401 worker log', badWorker.output()],
      ['the CLI output', good.output],
      ['the 401 CLI output', bad.output],
      ['the output files', outputFiles.join('')],
    ];
    assert.ok(goodWorker.output().length > 0 && badWorker.output().includes('authentication'), 'the workers did log');
    for (const [where, text] of places) {
      for (const [what, secret] of SECRETS) assert.ok(!text.includes(secret), `${what} is in ${where}`);
    }
  });
});
