/**
 * The proof that Sluice works as a package: `npm pack`, install the tarball into a fresh project (a copy of
 * examples/plugin, the project docs/package.md shows), type-check and compile that project with its own `tsc`, and
 * run it from there only: its worker with the SluicePlugin, a Sluice job from its client code, and its own workflow
 * that runs a Sluice job as a child, on the real dev server against the emulator.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startEmulator } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';
import { installIntoFreshProject, packRepository, REPO_ROOT } from './helpers/pack';
import { FAST_EMULATOR } from './helpers/stack';
import { testEnv, uniqueTaskQueue } from './helpers/temporal';

const run = promisify(execFile);
const EXAMPLE = path.join(REPO_ROOT, 'examples', 'plugin');
const children: ChildProcess[] = [];

after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

test('the packed tarball, installed in a project of its own, runs that project\'s worker, client and child job', { timeout: 600_000 }, async (t) => {
  // How long each stage took, in the test's report (CI time is worth watching).
  let since = Date.now();
  const took = (stage: string) => {
    t.diagnostic(`${stage}: ${((Date.now() - since) / 1000).toFixed(1)} s`);
    since = Date.now();
  };
  const [tarball, env] = await Promise.all([packRepository(), testEnv()]);
  after(() => rm(path.dirname(tarball), { recursive: true, force: true }));
  took('npm pack (builds lib/)');
  const project = await installIntoFreshProject(EXAMPLE, tarball);
  // The project's node_modules is about 100 MB: gone after the test.
  after(() => rm(project, { recursive: true, force: true }));
  took('npm ci --offline in the new project');
  const node = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, args, { cwd: project, env: { ...process.env, ...extraEnv }, maxBuffer: 16 << 20 });

  // Only the public entry points are reachable; the compiled CLI is the package's bin.
  const deep = await node(['-e', "require('sluice/lib/worker')"]).then(
    () => 'resolved',
    (err: { stderr: string }) => err.stderr,
  );
  assert.match(deep, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
  const help = await node([path.join(project, 'node_modules', '.bin', 'sluice'), '--help']);
  assert.match(help.stdout, /Usage: sluice/);

  // The project's own tsc type-checks its code against the package's declarations and compiles it.
  await run(process.execPath, [path.join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project });
  took("the project's tsc");

  const emulator = await startEmulator(FAST_EMULATOR);
  after(() => emulator.close());
  const storeDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-user-store-'));
  const projectEnv = {
    TEMPORAL_ADDRESS: env.address,
    TASK_QUEUE: uniqueTaskQueue('user'),
    SLUICE_STORE_DIR: storeDir,
    ANTHROPIC_API_KEY: emulator.apiKey,
    ANTHROPIC_BASE_URL: emulator.url,
  };
  const worker = spawn(process.execPath, ['dist/worker.js'], { cwd: project, env: { ...process.env, ...projectEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(worker);
  let workerOutput = '';
  worker.stdout.on('data', (b: Buffer) => (workerOutput += b.toString()));
  worker.stderr.on('data', (b: Buffer) => (workerOutput += b.toString()));
  // Up once it says so; its output is the failure message if it exits first.
  await new Promise<void>((resolve, reject) => {
    const onData = () => workerOutput.includes('worker running') && resolve();
    worker.stdout.on('data', onData);
    worker.once('exit', () => reject(new Error(`the project's worker exited:\n${workerOutput}`)));
  });

  took('worker up (bundles its workflows and Sluice\'s)');
  // Client code: a job from a file, through the package's client helpers.
  const fromClient = JSON.parse((await node(['dist/run-job.js', 'prompts.jsonl'], projectEnv)).stdout) as {
    workflowId: string;
    requests: number;
    succeeded: number;
  };
  assert.deepEqual({ requests: fromClient.requests, succeeded: fromClient.succeeded }, { requests: 5, succeeded: 5 });

  took('a job from client code');
  // The project's own workflow: a Sluice job as its child, staged by the worker, queried, awaited; then its own activity.
  const digest = JSON.parse((await node(['dist/start-digest.js', 'prompts.jsonl'], projectEnv)).stdout) as {
    workflowId: string;
    jobId: string;
    requests: number;
    succeeded: number;
    firstPhase: string;
    announcement: string;
  };
  took('a job as the child of the project\'s workflow');
  assert.equal(digest.requests, 5);
  assert.equal(digest.succeeded, 5);
  assert.ok(['planning', 'running', 'polling', 'finalizing', 'done'].includes(digest.firstPhase), digest.firstPhase);
  assert.match(digest.announcement, new RegExp(`^digest ${digest.jobId}: 5 summaries`));
  const store = new LocalDirectoryStore(storeDir);
  const results: string[] = [];
  for await (const line of store.readLines(`jobs/${digest.jobId}/output/results.jsonl`)) results.push(line);
  assert.equal(results.length, 5);

  // Neither the project's workflow history nor the job's holds a prompt.
  const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  for (const id of [digest.workflowId, digest.jobId]) {
    // The raw bytes, payloads as stored: the ids are there to be seen, the prompts are not.
    const history = await client.workflow.getHandle(id).fetchHistory();
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('utf8');
    assert.ok(bytes.includes(digest.jobId), `the search sees the payloads of ${id}`);
    assert.ok(!bytes.includes('quarterly report'), `a prompt is in the history of ${id}`);
  }

  worker.kill('SIGTERM');
  await once(worker, 'exit');
});
