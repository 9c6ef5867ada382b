// The production shape, run for real (npm run stack's code): PostgreSQL holding Temporal's persistence, its SQL
// visibility and Sluice's store; the full Temporal server; three worker processes. A 5,000-request job survives a
// worker killed with SIGKILL and a restart of the Temporal server; a schedule fires and its audit reconciles; and
// `sluice status` in another process, configured only by the stack's env file, shows the job.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { connectSluiceClient, type SluiceClient } from '../src/client/connect';
import { jobProgress, startJob, waitForJob } from '../src/client/jobs';
import { createSchedule, deleteSchedule, describeSchedule } from '../src/client/schedules';
import { loadConfig } from '../src/config';
import { startProductionStack, type ProductionStack } from '../src/dev/cluster/production-stack';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import { createStore, type ClosableBlobStore } from '../src/store';
import { writeJobInput } from './helpers/stack';
import { sendsByCustomId } from './helpers/wire';

const exec = promisify(execFile);
const COUNT = 5_000;
const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 32 };
const FAST_POLL = { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } };
const DATABASE_URL = process.env.SLUICE_TEST_DATABASE_URL;
const PREFIX = `stack${process.pid}_`;
const inCi = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/**
 * A query right after a worker's SIGKILL can fail: the job's workflow was cached on that worker, and the server sends
 * the query to it until it notices the worker gone (a job served by the account's poller may have no task meanwhile
 * to move it). Asked again until the server has moved it, for at most 30 s.
 */
async function progressAfterKill(client: SluiceClient['client'], workflowId: string) {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      return await jobProgress(client, workflowId);
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(500);
    }
  }
}
// As in store-postgres.test.ts: without a database the test is skipped locally and fails in CI.
if (!DATABASE_URL && inCi) throw new Error('SLUICE_TEST_DATABASE_URL is not set (.ci/run exports it)');

function adminUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

describe('the production-shaped stack', { skip: DATABASE_URL ? false : 'SLUICE_TEST_DATABASE_URL is not set (scripts/start-test-postgres.sh)' }, () => {
  let stack: ProductionStack;
  let sluice: SluiceClient;
  let store: ClosableBlobStore;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    stack = await startProductionStack({
      dir: await mkdtemp(path.join(os.tmpdir(), 'sluice-stack-')),
      postgresUrl: adminUrl(DATABASE_URL!),
      databasePrefix: PREFIX,
      workers: 3,
      ui: false,
      // Each batch takes 1-3 s (real): with 10 in flight, 50 sub-batches take several rounds.
      emulator: { timeScale: 0.001, seed: 14, latency: { batch: { kind: 'fixed', ms: 2_000_000 }, spread: 0.5 } },
      log: (l) => process.env.SLUICE_TEST_VERBOSE && console.error(new Date().toISOString(), l),
    });
    // Everything below connects the way another terminal would: from the stack's env file only.
    env = { PATH: process.env.PATH, HOME: process.env.HOME, ...stack.env };
    sluice = await connectSluiceClient(env);
    store = createStore(loadConfig(env));
  });
  after(async () => {
    if (process.env.SLUICE_TEST_VERBOSE) console.error(new Date().toISOString(), 'after');
    await sluice?.close();
    await store?.close();
    await stack?.stop();
    const admin = new pg.Client({ connectionString: adminUrl(DATABASE_URL!) });
    await admin.connect();
    for (const db of ['temporal', 'temporal_visibility', 'sluice']) await admin.query(`drop database if exists "${PREFIX}${db}" with (force)`);
    await admin.end();
    if (process.env.SLUICE_TEST_VERBOSE) console.error(new Date().toISOString(), 'after done');
  });

  test('sluice setup registered the search attributes and found the namespace', () => {
    assert.match(stack.setupOutput, /Namespace default: exists, retention 3 days/);
    assert.match(stack.setupOutput, /Search attributes registered: SluiceJobName, SluicePhase, SluicePriority, SluiceDeadline, SluiceSlaAtRisk/);
  });

  test('5,000 requests across a SIGKILLed worker and a server restart: one outcome each, in input order, none sent more often than attempted', { timeout: 150_000 }, async () => {
    const client = sluice.client;
    const file = await writeJobInput(COUNT);
    const { workflowId, handle } = await startJob({
      client,
      store,
      taskQueue: stack.env.SLUICE_TASK_QUEUE!,
      file,
      defaults: DEFAULTS,
      options: { ...FAST_POLL, batchSize: 100, maxBatchesInFlight: 10 },
    });

    // Kill a worker once some batches were collected and more are to come, choosing one that runs none of the
    // job's activities right now (a killed activity would only be retried after its timeout, a minute).
    let killedPid: number | undefined;
    const deadline = Date.now() + 60_000;
    while (killedPid === undefined) {
      assert.ok(Date.now() < deadline, 'no moment to kill a worker was found');
      const p = await jobProgress(client, workflowId);
      if (p.batches.collected >= 3 && p.requests.notYetSubmitted > 0) {
        const busy = new Set(((await handle.describe()).raw.pendingActivities ?? []).map((a) => a.lastWorkerIdentity ?? ''));
        const idle = stack.fleet.workers.find((w) => ![...busy].some((id) => id.startsWith(`${w.child.pid}@`)));
        if (idle) {
          idle.child.kill('SIGKILL');
          await once(idle.child, 'exit');
          killedPid = idle.child.pid;
        }
      }
      if (killedPid === undefined) await sleep(50);
    }
    const atKill = await progressAfterKill(client, workflowId);
    assert.ok(atKill.requests.notYetSubmitted > 0 || atKill.requests.inFlight > 0, 'killed mid-job');

    // Then take the Temporal server away once, while batches are in flight.
    while ((await progressAfterKill(client, workflowId)).batches.collected < atKill.batches.collected + 3) await sleep(100);
    const serverPid = stack.temporal.pid();
    await stack.temporal.restart();
    assert.notEqual(stack.temporal.pid(), serverPid, 'a new server process');

    const summary = await waitForJob(client, workflowId);
    assert.equal(summary.requests, COUNT);
    assert.equal(summary.outcomes.succeeded, COUNT);

    const results: OutcomeLine[] = [];
    for await (const l of store.readLines(jobKeys.output(workflowId, 'results.jsonl'))) results.push(JSON.parse(l) as OutcomeLine);
    assert.equal(results.length, COUNT, 'one outcome per request');
    assert.equal(new Set(results.map((r) => r.custom_id)).size, COUNT, 'no request twice');
    assert.deepEqual(results.map((r) => r.line), Array.from({ length: COUNT }, (_, i) => i + 1), 'input order');
    // The wire carries Sluice's ids: count sends by the user's custom_id.
    const sends = await sendsByCustomId(store, stack.emulator!.stats());
    const overSent = results.filter((r) => {
      const sent = sends[r.custom_id];
      return !sent || sent.batch + sent.sync > r.attempts;
    });
    assert.deepEqual(overSent.map((r) => r.custom_id), [], 'no request sent more often than attempted');

    // Another process, configured only by the env file the stack wrote, shows the job.
    const { stdout } = await exec('bash', ['-c', `set -a; . "$1"; set +a; exec "$2" --import tsx src/cli/main.ts status "$3"`, 'status', stack.envFile, process.execPath, workflowId], {
      cwd: path.join(__dirname, '..'),
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    assert.match(stdout, new RegExp(`^${workflowId}: done`, 'm'));
    assert.match(stdout, new RegExp(`done\\s+${COUNT}/${COUNT} \\(${COUNT} succeeded`));
  });

  test('a schedule fires on the cluster and its audit reconciles every batch', { timeout: 90_000 }, async () => {
    const client = sluice.client;
    const inputDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-stack-audit-'));
    const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ custom_id: `audit-${i}`, params: { messages: [{ role: 'user', content: `Audit ${i}.` }] } }));
    await writeFile(path.join(inputDir, 'nightly.jsonl'), lines.join('\n') + '\n');
    await createSchedule({
      client,
      taskQueue: stack.env.SLUICE_TASK_QUEUE!,
      name: 'stack-nightly',
      audit: { input: inputDir, defaults: DEFAULTS, job: FAST_POLL, reconcile: { orphanGraceMs: 0, uncollectedGraceMs: 0 } },
      cadence: { everyMs: 3_000 },
    });
    try {
      const deadline = Date.now() + 60_000;
      let run;
      while (!run) {
        assert.ok(Date.now() < deadline, 'the schedule did not complete a run');
        run = (await describeSchedule(client, 'stack-nightly')).recentRuns.find((r) => r.status === 'COMPLETED');
        if (!run) await sleep(500);
      }
      const r = run.result!;
      assert.equal(r.job!.succeeded, 20);
      // Every batch on the account (the 5,000-request job's included) is claimed by a job and was collected.
      assert.deepEqual(r.reconcile.orphans, []);
      assert.equal(r.reconcile.uncollectedCount, 0);
      assert.ok(await store.exists(r.reconcile.reportKey), 'the audit report is in the store');
    } finally {
      await deleteSchedule(client, 'stack-nightly');
    }
  });
});
