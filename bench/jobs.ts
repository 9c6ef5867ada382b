/**
 * `npm run bench:jobs`: many jobs at once on one account, against the emulator with near-instant processing, on a real
 * Temporal dev server with the worker in its own process (as bench/job.ts). Prints the API calls against the minimum
 * (one create and one results download per batch), the polls per tick of the account's poller (mean and max, which
 * must not grow with the number of jobs), the list walks, the wall time, and fairness: the slowest job's completion
 * time over the fastest's.
 *
 *   npm run bench:jobs -- --jobs 50 --requests 2000 [--batch-size 100] [--account-poll off]
 *
 * `--requests` is per job. `--account-poll off` runs the same jobs each polling on its own, for comparison.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { pollerAccountOf } from '../src/activities/account-poll';
import { startJob, waitForJob } from '../src/client/jobs';
import type { JobSummary } from '../src/contracts/activities';
import { pollerQuery, type PollerStats } from '../src/contracts/messages';
import { pollerWorkflowId } from '../src/contracts/workflow-ids';
import { freePort, startDevServer, stopChild } from '../src/dev/dev-server';
import { requireTemporalCliPath } from '../src/dev/temporal-cli';
import type { EmulatorStats } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';
import { waitForHttp } from './job-measures';
import { ownPolls as ownPollsOf, pollerTimeline, type OwnPoll, type Spread } from './poller-timeline';
import { printTable, ratio, runToEnd, seconds } from './report';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '50' },
    requests: { type: 'string', default: '2000' },
    'batch-size': { type: 'string', default: '100' },
    'account-poll': { type: 'string', default: 'on' },
    'worker-memory-mb': { type: 'string', default: '768' },
  },
});
const JOBS = Number(args.jobs);
const PER_JOB = Number(args.requests);
const BATCH = Number(args['batch-size']);
const ACCOUNT_POLL = args['account-poll'] === 'off' ? 'off' : 'on';
const POLL = { initialMs: 250, growth: 1.5, capMs: 1_000 };
const TIME_SCALE = 0.00001;
const API_KEY = 'sk-emulator';
const cli = path.join(__dirname, '..', 'src', 'cli', 'main.ts');

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-jobs-'));
  const files: string[] = [];
  for (let j = 0; j < JOBS; j++) {
    const lines = Array.from({ length: PER_JOB }, (_, i) =>
      JSON.stringify({ custom_id: `j${j}-r${i}`, params: { model: 'claude-haiku-4-5', max_tokens: 32, messages: [{ role: 'user', content: `Job ${j}: classify item ${i}, a short text.` }] } }),
    );
    files.push(path.join(tmp, `job-${j}.jsonl`));
    await writeFile(files[j]!, lines.join('\n') + '\n');
  }

  const binary = await requireTemporalCliPath({ log: console.error });
  const server = await startDevServer({ binary, port: await freePort() });
  const emulatorPort = await freePort();
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const emulatorArgs = ['--port', String(emulatorPort), '--time-scale', String(TIME_SCALE), '--results-retention-ms', String(3_650 * 86_400_000)];
  const emulator = spawn(process.execPath, ['--import', 'tsx', cli, 'emulator', ...emulatorArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForHttp(`${emulatorUrl}/_emulator/stats`);

  const bundle = path.join(tmp, 'workflow-bundle.js');
  await runToEnd(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'scripts', 'build-workflow-bundle.ts'), bundle]);
  const storeDir = path.join(tmp, 'store');
  const taskQueue = 'bench-jobs';
  const worker = spawn(process.execPath, ['--import', 'tsx', cli, 'worker'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      SLUICE_TASK_QUEUE: taskQueue,
      ANTHROPIC_API_KEY: API_KEY,
      ANTHROPIC_BASE_URL: emulatorUrl,
      SLUICE_STORE_DIR: storeDir,
      SLUICE_WORKFLOW_BUNDLE: bundle,
      SLUICE_WORKER_MEMORY_MB: args['worker-memory-mb'],
      SLUICE_ACCOUNT_POLL: ACCOUNT_POLL,
      SLUICE_LOG_LEVEL: 'warn',
    },
  });
  await workerReady(worker);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const store = new LocalDirectoryStore(storeDir);

  const started = Date.now();
  const ids = await Promise.all(
    files.map(async (file, j) => {
      const { workflowId } = await startJob({ client, store, taskQueue, file, name: `bench-${j}`, options: { batchSize: BATCH, poll: POLL } });
      return workflowId;
    }),
  );
  const ends: { summary: JobSummary; doneMs: number }[] = await Promise.all(
    ids.map(async (id) => {
      const summary = await waitForJob(client, id);
      return { summary, doneMs: Date.now() - started };
    }),
  );
  const wallMs = Date.now() - started;
  const stats = (await (await fetch(`${emulatorUrl}/_emulator/stats`)).json()) as EmulatorStats;
  const poller = ACCOUNT_POLL === 'on' ? await pollerStats(client, emulatorUrl) : undefined;
  const pollerRuns = ACCOUNT_POLL === 'on' ? await allRuns(client, pollerIdOf(emulatorUrl)) : [];
  const timeline = ACCOUNT_POLL === 'on' ? pollerTimeline(pollerRuns) : undefined;
  if (process.env.BENCH_JOBS_HISTORIES) await dumpHistories(process.env.BENCH_JOBS_HISTORIES, pollerRuns, client, ids);
  const alone = ACCOUNT_POLL === 'on' ? ownPollsOf(await Promise.all(ids.map(async (jobId) => ({ jobId, runs: await allRuns(client, jobId) }))), pollerRuns) : [];
  await stopChild(worker, 20_000);

  const batchesPerJob = Math.ceil(PER_JOB / BATCH);
  const batches = JOBS * batchesPerJob;
  // One create and one results download per batch, and the one read of the Models API each job makes to check its models.
  const minimum = 2 * batches + JOBS;
  const total = Object.values(stats.calls).reduce((a, b) => a + b, 0);
  const polls = stats.calls.list + stats.calls.retrieve;
  const ownPolls = ends.reduce((n, e) => n + (e.summary.apiCalls.poll ?? 0), 0);
  const succeeded = ends.reduce((n, e) => n + e.summary.outcomes.succeeded, 0);
  const done = ends.map((e) => e.doneMs).sort((a, b) => a - b);

  console.log(`\n${JOBS} jobs at once, ${PER_JOB} requests each (${batches} batches of ${BATCH}), account poll ${ACCOUNT_POLL}`);
  printTable(
    ['measure', 'value', 'note'],
    [
      ['API calls: total', String(total), `minimum ${minimum}: ${batches} creates + ${batches} results downloads + ${JOBS} model checks`],
      ['API calls / minimum', ratio(total, minimum), 'target ≤ 1.05x (polls included)'],
      ['API calls / (minimum + polls)', ratio(total, minimum + polls), 'what is spent beyond the work and the polls'],
      ...Object.entries(stats.calls)
        .filter(([, n]) => n > 0)
        .map(([k, n]): [string, string, string] => [`calls: ${k}`, String(n), '']),
      ['poll calls (list + retrieve)', String(polls), ''],
      ...(poller
        ? ([
            ['list walks (poller ticks)', String(poller.walks), `${poller.calls} calls; most batches watched in one walk: ${poller.maxWatched}`],
            ['polls per tick: mean', (poller.calls / Math.max(1, poller.walks)).toFixed(2), `bound ceil(batches in flight / 1,000) = ${Math.ceil(poller.maxWatched / 1_000)}`],
            ['polls per tick: max', String(poller.maxCallsPerWalk), 'independent of the number of jobs'],
          ] as [string, string, string][])
        : []),
      ['polls made by jobs on their own', String(ownPolls), ACCOUNT_POLL === 'on' ? 'only after a silent poller' : 'every job polls alone'],
      ...(timeline
        ? [
            ['poller runs / events / registrations', `${timeline.runs} / ${timeline.events} / ${timeline.registrations}`, 'continue-as-new, history, watchBatches signals'],
            spreadRow('poller task: schedule → start', timeline.taskQueued),
            spreadRow('poller task: start → complete', timeline.taskRun),
            spreadRow('poller walk task: start → complete', timeline.walkTasks),
            spreadRow('poller: walk to next walk', timeline.walkGaps),
          ]
        : []),
      ['succeeded', String(succeeded), succeeded === JOBS * PER_JOB ? 'ok' : 'MISSING RESULTS'],
      ['wall time', seconds(wallMs), 'first start to last job done'],
      ['fastest / slowest job done', `${seconds(done[0]!)} / ${seconds(done.at(-1)!)}`, ''],
      ['fairness (slowest / fastest)', ratio(done.at(-1)!, done[0]!), 'completion times from the common start'],
    ],
  );

  if (timeline && process.env.BENCH_JOBS_WALKS) {
    console.log('\nWalks: task start (from the poller\'s start), task time, reports sent');
    printTable(['at', 'task', 'reports'], timeline.walks.map((w) => [seconds(w.atMs), `${Math.round(w.runMs)} ms`, String(w.reports)]));
  }
  if (alone.length > 0) printOwnPolls(alone);

  await connection.close();
  await stopChild(emulator);
  await server.stop();
  await rm(tmp, { recursive: true, force: true });
}

function pollerIdOf(baseURL: string): string {
  return pollerWorkflowId(pollerAccountOf(new Anthropic({ apiKey: API_KEY, baseURL })));
}

async function pollerStats(client: Client, baseURL: string): Promise<PollerStats> {
  return (await client.workflow.getHandle(pollerIdOf(baseURL)).query(pollerQuery)).stats;
}

/** For a closer look: each workflow's runs as one JSON file of events (type, time, names; no payloads). */
async function dumpHistories(dir: string, pollerRuns: Awaited<ReturnType<typeof allRuns>>, client: Client, ids: string[]) {
  const brief = (runs: Awaited<ReturnType<typeof allRuns>>) =>
    runs.flatMap((h) =>
      (h.events ?? []).map((e) => ({
        id: Number(e.eventId),
        type: temporal.api.enums.v1.EventType[e.eventType ?? 0],
        t: Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6),
        name:
          e.activityTaskScheduledEventAttributes?.activityType?.name ??
          e.workflowExecutionSignaledEventAttributes?.signalName ??
          e.signalExternalWorkflowExecutionInitiatedEventAttributes?.workflowExecution?.workflowId ??
          undefined,
        input: e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data ? Buffer.from(e.workflowExecutionSignaledEventAttributes.input.payloads[0].data).toString('utf8').slice(0, 300) : undefined,
      })),
    );
  await writeFile(path.join(dir, 'poller.json'), JSON.stringify(brief(pollerRuns)));
  for (const id of ids) await writeFile(path.join(dir, `${id}.json`), JSON.stringify(brief(await allRuns(client, id))));
}

/** Every run of a workflow id, oldest first, as histories. */
async function allRuns(client: Client, workflowId: string) {
  const runs: { start: number; runId: string }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ start: wf.startTime.getTime(), runId: wf.runId });
  runs.sort((a, b) => a.start - b.start);
  return Promise.all(runs.map((r) => client.workflow.getHandle(workflowId, r.runId).fetchHistory()));
}

/** Why jobs polled on their own: what each had heard, and what the poller's history shows for it then. */
function printOwnPolls(polls: OwnPoll[]) {
  const s = (v: number | undefined) => (v === undefined ? 'never' : seconds(v));
  console.log(`\nJobs that polled on their own (${polls.length}; the first 20): times before the poll`);
  printTable(
    ['job', 'at', 'since a report reached it', 'since it registered', 'poller: since it received a registration', 'poller: since it sent a report', 'walks since'],
    polls.slice(0, 20).map((p) => [p.jobId.slice(-24), seconds(p.atMs), s(p.sinceReportMs), s(p.sinceRegisteredMs), s(p.pollerSinceReceivedMs), s(p.pollerSinceSentMs), String(p.walksSinceReceived)]),
  );
}

function spreadRow(label: string, s: Spread): [string, string, string] {
  return [label, s.count === 0 ? '-' : `${Math.round(s.meanMs)} ms mean / ${Math.round(s.maxMs)} ms max`, `${s.count} times`];
}

/** Resolves once the worker has printed its startup line (it polls right after); passes its stderr on. */
function workerReady(worker: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    worker.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      seen = (seen + chunk.toString()).slice(-10_000);
      if (seen.includes('Sluice worker on')) resolve();
    });
    worker.once('exit', (code) => reject(new Error(`the worker exited (${code}) before it started`)));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
