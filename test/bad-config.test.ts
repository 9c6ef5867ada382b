// Bad configuration is refused with a message naming the variable or the flag (and never echoing a secret), by
// loadConfig and by the real `sluice` CLI in a child process: exit code 2 for a bad value, 1 when Temporal cannot be
// reached. Bad flags are caught before the CLI connects anywhere (TEMPORAL_ADDRESS points at a closed port here).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { loadConfig } from '../src/config';
import { ConfigError } from '../src/domain/errors';
import { runWorkerFromEnv } from '../src/worker';

const ROOT = path.join(__dirname, '..');
const SECRET = 'sk-ant-SECRET-do-not-print';
const CLOSED = '127.0.0.1:1';

describe('loadConfig', () => {
  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['TEMPORAL_ADDRESS without a port', { TEMPORAL_ADDRESS: 'localhost' }, /^TEMPORAL_ADDRESS: must be host:port, e\.g\. 127\.0\.0\.1:7233$/],
    ['TEMPORAL_ADDRESS as a URL', { TEMPORAL_ADDRESS: 'http://127.0.0.1:7233' }, /^TEMPORAL_ADDRESS: must be host:port/],
    ['an empty ANTHROPIC_API_KEY', { ANTHROPIC_API_KEY: '' }, /^ANTHROPIC_API_KEY: /],
    ['ANTHROPIC_BASE_URL not a URL', { ANTHROPIC_BASE_URL: SECRET }, /^ANTHROPIC_BASE_URL: must be an http/],
    ['SLUICE_ACTIVITY_CONCURRENCY 0', { SLUICE_ACTIVITY_CONCURRENCY: '0' }, /^SLUICE_ACTIVITY_CONCURRENCY: .*>=1/],
    ['SLUICE_ACTIVITY_CONCURRENCY not a number', { SLUICE_ACTIVITY_CONCURRENCY: 'many' }, /^SLUICE_ACTIVITY_CONCURRENCY: /],
    ['SLUICE_WORKFLOW_CACHE negative', { SLUICE_WORKFLOW_CACHE: '-1' }, /^SLUICE_WORKFLOW_CACHE: /],
    ['SLUICE_LOG_LEVEL unknown', { SLUICE_LOG_LEVEL: 'verbose' }, /^SLUICE_LOG_LEVEL: /],
    ['SLUICE_WEB_UI without http://', { SLUICE_WEB_UI: 'localhost:8233' }, /^SLUICE_WEB_UI: must be an http:\/\/ or https:\/\/ URL/],
    ['ANTHROPIC_BASE_URL without http://', { ANTHROPIC_BASE_URL: 'localhost:4010' }, /^ANTHROPIC_BASE_URL: must be an http:\/\/ or https:\/\/ URL/],
    ['SLUICE_QUEUE_REFRESH_MS below 100 ms', { SLUICE_QUEUE_REFRESH_MS: '50' }, /^SLUICE_QUEUE_REFRESH_MS: must be at least 100 \(ms\)/],
    ['SLUICE_QUEUE_MISSED_REFRESHES 0', { SLUICE_QUEUE_MISSED_REFRESHES: '0' }, /^SLUICE_QUEUE_MISSED_REFRESHES: .*>=1/],
    ['SLUICE_WORKER_SERVES unknown', { SLUICE_WORKER_SERVES: 'intake' }, /^SLUICE_WORKER_SERVES: must be "all", "jobs" or "intakes"$/],
    ['SLUICE_WORKER_SERVES intakes without their queue', { SLUICE_WORKER_SERVES: 'intakes' }, /^SLUICE_WORKER_SERVES: is "intakes" but SLUICE_INTAKE_TASK_QUEUE is not set/],
    ['SLUICE_STORE not PostgreSQL', { SLUICE_STORE: `mysql://sluice:${SECRET}@db/sluice` }, /^SLUICE_STORE: must start with postgres:\/\//],
  ];
  for (const [what, env, message] of cases) {
    test(what, () => {
      let thrown: unknown;
      try {
        loadConfig(env);
      } catch (err) {
        thrown = err;
      }
      assert.ok(thrown instanceof ConfigError, `${what}: ${String(thrown)}`);
      assert.match(thrown.message, message);
      assert.ok(!thrown.message.includes(SECRET), 'the value is not echoed');
    });
  }

  test('a worker without ANTHROPIC_API_KEY is refused before it connects anywhere', async () => {
    await assert.rejects(runWorkerFromEnv({ TEMPORAL_ADDRESS: CLOSED }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.field, 'ANTHROPIC_API_KEY');
      assert.match(err.message, /^ANTHROPIC_API_KEY: is not set/);
      return true;
    });
  });
});

interface CliRun {
  code: number | null;
  out: string;
}

function sluice(args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

describe('the sluice CLI with bad configuration', () => {
  let input: string;
  before(async () => {
    input = path.join(await mkdtemp(path.join(os.tmpdir(), 'sluice-config-')), 'input.jsonl');
    await writeFile(input, JSON.stringify({ params: { messages: [{ role: 'user', content: 'Say hello.' }] } }) + '\n');
  });

  const run = (...flags: string[]) => ['run', '<input>', '--model', 'claude-haiku-4-5', '--max-tokens', '16', ...flags];
  const cases: { what: string; args: string[]; env?: Record<string, string | undefined>; code: number; message: RegExp }[] = [
    { what: 'worker without ANTHROPIC_API_KEY', args: ['worker'], env: { ANTHROPIC_API_KEY: undefined }, code: 2, message: /^Error: ANTHROPIC_API_KEY: is not set: the worker needs a key/m },
    { what: 'worker with an empty ANTHROPIC_API_KEY', args: ['worker'], env: { ANTHROPIC_API_KEY: '' }, code: 2, message: /^Error: ANTHROPIC_API_KEY: /m },
    { what: 'worker with a bad TEMPORAL_ADDRESS', args: ['worker'], env: { ANTHROPIC_API_KEY: SECRET, TEMPORAL_ADDRESS: 'localhost' }, code: 2, message: /^Error: TEMPORAL_ADDRESS: must be host:port/m },
    { what: 'worker with an unreachable TEMPORAL_ADDRESS', args: ['worker'], env: { ANTHROPIC_API_KEY: SECRET }, code: 1, message: /^Cannot reach Temporal .*\n.*set TEMPORAL_ADDRESS/m },
    { what: 'worker with SLUICE_ACTIVITY_CONCURRENCY 0', args: ['worker'], env: { ANTHROPIC_API_KEY: SECRET, SLUICE_ACTIVITY_CONCURRENCY: '0' }, code: 2, message: /^Error: SLUICE_ACTIVITY_CONCURRENCY: /m },
    { what: 'run with a bad TEMPORAL_ADDRESS', args: run(), env: { TEMPORAL_ADDRESS: 'localhost' }, code: 2, message: /^Error: TEMPORAL_ADDRESS: must be host:port/m },
    { what: 'run with an unreachable TEMPORAL_ADDRESS', args: run(), code: 1, message: /^Cannot reach Temporal .*\n.*set TEMPORAL_ADDRESS/m },
    { what: 'run --sla with an unknown unit', args: run('--sla', '30x'), code: 2, message: /^Error: --sla: "30x" is not a duration: unknown unit "x"; use a number with a unit/m },
    { what: 'run --sla without a unit', args: run('--sla', '30'), code: 2, message: /^Error: --sla: "30" is not a duration: it has no unit/m },
    { what: 'run --poll-initial without a unit', args: run('--poll-initial', '10'), code: 2, message: /^Error: --poll-initial: "10" is not a duration: it has no unit/m },
    { what: 'run --poll-cap below --poll-initial', args: run('--poll-initial', '5m', '--poll-cap', '1m'), code: 2, message: /^Error: --poll-cap: must be ≥ --poll-initial$/m },
    { what: 'run --window with units out of order', args: run('--sla', '30h', '--window', '30m2h'), code: 2, message: /^Error: --window: "30m2h" is not a duration: units must go from largest to smallest/m },
    { what: 'run --batch-size not a number', args: run('--batch-size', 'abc'), code: 2, message: /--batch-size must be a whole number \(got "abc"\)/ },
    { what: 'run --batch-size 0', args: run('--batch-size', '0'), code: 2, message: /^Error: --batch-size: Too small: expected number to be >=1$/m },
    { what: 'run --batch-size over the API limit', args: run('--batch-size', '100001'), code: 2, message: /^Error: --batch-size: Too big: expected number to be <=100000$/m },
    { what: 'run --max-attempts 0', args: run('--max-attempts', '0'), code: 2, message: /^Error: --max-attempts: Too small/m },
    { what: 'run --max-in-flight 0', args: run('--max-in-flight', '0'), code: 2, message: /^Error: --max-in-flight: Too small/m },
    { what: 'run --deadline not a time', args: run('--deadline', 'tomorrow'), code: 2, message: /^Error: --deadline must be a date and time/m },
    { what: 'run --sla and --deadline', args: run('--sla', '30h', '--deadline', '2099-01-01T00:00Z'), code: 2, message: /^Error: give --sla or --deadline, not both$/m },
    { what: 'run --temperature out of range', args: run('--temperature', '3'), code: 2, message: /^Error: defaults\.temperature: must be a number from 0 to 1 \(got 3\)$/m },
  ];

  test('each bad value is named, with the right exit code, and no secret is printed', { timeout: 120_000 }, async () => {
    const results = await Promise.all(
      cases.map(async (c) => ({
        c,
        r: await sluice(
          c.args.map((a) => (a === '<input>' ? input : a)),
          { TEMPORAL_ADDRESS: CLOSED, SLUICE_STORE_DIR: path.dirname(input), ...c.env },
        ),
      })),
    );
    for (const { c, r } of results) {
      assert.equal(r.code, c.code, `${c.what}:\n${r.out}`);
      assert.match(r.out, c.message, c.what);
      assert.ok(!r.out.includes(SECRET), `${c.what}: the key is printed`);
      assert.ok(!/\n\s+at /.test(r.out), `${c.what}: a stack trace is printed:\n${r.out}`);
    }
  });
});
