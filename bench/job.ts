/**
 * `npm run bench`: one job of N requests (default 100,000) against the emulator with near-instant processing,
 * on a real Temporal dev server, with the worker in its own process; and, in the same run against the same
 * emulator, the bare SDK loop of bench/bare-loop.ts doing the minimum. Prints Sluice's wall time, CPU and API
 * calls as ratios to the bare loop; calls by endpoint against the minimum; requests sent (emulator stats) against
 * attempts made (results.jsonl); the worker's peak RSS; history events per run; where the job's time went (from
 * its histories), the CPU of every process, and the worker's CPU profile.
 *
 *   npm run bench -- --requests 20000 [--worker-memory-mb 512] [--no-profile] [--no-eager] [--keep]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { pollerAccountOf } from '../src/activities/account-poll';
import { pollerWorkflowId } from '../src/contracts/workflow-ids';
import { startJob, waitForJob } from '../src/client/jobs';
import { freePort, startDevServer, stopChild } from '../src/dev/dev-server';
import { requireTemporalCliPath } from '../src/dev/temporal-cli';
import type { EmulatorStats } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';
import type { BareLoopResult } from './bare-loop';
import { monotonicUs, summarizeProfiles, type ProfileWindow } from './cpu-profile';
import { historyBreakdown } from './history-breakdown';
import { historiesOf, sendsAgainstAttempts, waitForHttp, writeBenchInput } from './job-measures';
import { peakWithin, sampleRss } from './rss-sampler';
import { childPidsOf, cpuMsOf, mb, peakRssOf, printTable, ratio, runToEnd, seconds } from './report';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    'batch-size': { type: 'string', default: '100' },
    'baseline-concurrency': { type: 'string', default: '8' },
    'worker-memory-mb': { type: 'string', default: '512' },
    'no-profile': { type: 'boolean', default: false },
    /** The dev server without eager activity dispatch (src/dev/dev-server.ts turns it on), to compare. */
    'no-eager': { type: 'boolean', default: false },
    /** Keep the run's directory (input, store, CPU profiles) and print where it is, to look closer. */
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(args.requests);
const BATCH = Number(args['batch-size']);
const WORKER_MEMORY_MB = Number(args['worker-memory-mb']);
const PROFILE = !args['no-profile'];
const POLL = { initialMs: 250, growth: 1.5, capMs: 1_000 };
const MAX_BATCHES_IN_FLIGHT = 1_000;
const TIME_SCALE = 0.00001;
const cli = path.join(__dirname, '..', 'src', 'cli', 'main.ts');

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-'));
  const input = path.join(tmp, 'input.jsonl');
  await writeBenchInput(input, N);

  const binary = await requireTemporalCliPath({ log: console.error });
  const dynamicConfig: Record<string, boolean> = args['no-eager'] ? { 'system.enableActivityEagerExecution': false } : {};
  const server = await startDevServer({ binary, port: await freePort(), dynamicConfig });
  // The emulator runs in its own process so the RSS measured here is the worker's alone.
  const emulatorPort = await freePort();
  // At this time scale the API's 29 days of results retention last 25 s, less than a large job spends before its
  // first collect on a loaded machine: results are kept for 10 years of API time (an hour) instead.
  const emulatorArgs = ['--port', String(emulatorPort), '--time-scale', String(TIME_SCALE), '--results-retention-ms', String(3_650 * 86_400_000)];
  const emulator = spawn(process.execPath, ['--import', 'tsx', cli, 'emulator', ...emulatorArgs], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  await waitForHttp(`${emulatorUrl}/_emulator/stats`);
  const emulatorStats = async () => (await (await fetch(`${emulatorUrl}/_emulator/stats`)).json()) as EmulatorStats;
  const totalCalls = (stats: EmulatorStats) => Object.values(stats.calls).reduce((a, b) => a + b, 0);

  // 1. The bare loop, in its own process; then the emulator forgets it all, so Sluice starts from the same state.
  const emulatorCpu0 = await cpuMsOf(emulator.pid!);
  const bare = await runBareLoop(input, emulatorUrl);
  const bareEmulatorCpu = (await cpuMsOf(emulator.pid!)) - emulatorCpu0;
  const bareStats = await emulatorStats();
  await fetch(`${emulatorUrl}/_emulator/reset`, { method: 'POST' });

  // 2. Sluice: the worker in its own process, with a prebuilt workflow bundle as in production, and a memory budget
  // it turns into its own heap limit and sizes (no V8 flags from here). Its peak RSS is the kernel's high-water
  // mark (VmHWM) of the process that runs the worker, read just before it is stopped.
  const bundle = path.join(tmp, 'workflow-bundle.js');
  await runToEnd(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'scripts', 'build-workflow-bundle.ts'), bundle]);
  const storeDir = path.join(tmp, 'store');
  const profileDir = path.join(tmp, 'profile');
  await mkdir(profileDir);
  const taskQueue = 'bench';
  const profileFlags = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval=5000'] : [];
  const worker = spawn(process.execPath, [...profileFlags, '--import', 'tsx', cli, 'worker'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      SLUICE_TASK_QUEUE: taskQueue,
      ANTHROPIC_API_KEY: 'sk-emulator',
      ANTHROPIC_BASE_URL: emulatorUrl,
      SLUICE_STORE_DIR: storeDir,
      SLUICE_WORKFLOW_BUNDLE: bundle,
      SLUICE_WORKER_MEMORY_MB: String(WORKER_MEMORY_MB),
      SLUICE_LOG_LEVEL: 'warn',
    },
  });
  // Workers are long-lived: the clock starts once this one polls (its startup line), as the bare loop's starts
  // once its process is up.
  await workerReady(worker);
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection });
  const store = new LocalDirectoryStore(storeDir);

  // The worker's own start (module loading, the bundle) is not the job's: its CPU is counted from here.
  const workerCpuOf = async () => (await Promise.all((await workerProcessPids(worker.pid!)).map(cpuMsOf))).reduce((a, b) => a + b, 0);
  const cpu0 = { server: await cpuMsOf(server.pid), emulator: await cpuMsOf(emulator.pid!), bench: process.cpuUsage(), worker: await workerCpuOf() };
  const rss = sampleRss(() => workerProcessPids(worker.pid!));
  const started = Date.now();
  const startedUs = monotonicUs();
  const { workflowId } = await startJob({
    client,
    store,
    taskQueue,
    file: input,
    name: 'bench',
    options: { batchSize: BATCH, maxBatchesInFlight: MAX_BATCHES_IN_FLIGHT, poll: POLL },
  });
  const summary = await waitForJob(client, workflowId);
  const wallMs = Date.now() - started;
  const endedUs = monotonicUs();
  /** Epoch ms (history event times) on the monotonic clock of the CPU profiles. */
  const toMonotonicUs = (epochMs: number) => startedUs + (epochMs - started) * 1000;
  const workerPids = await workerProcessPids(worker.pid!);
  const workerCpu = (await workerCpuOf()) - cpu0.worker;
  const rssSamples = await rss.stop();
  const peakRss = Math.max(...(await Promise.all(workerPids.map(peakRssOf))));
  const benchCpu = process.cpuUsage(cpu0.bench);
  const cpu = {
    worker: workerCpu,
    server: (await cpuMsOf(server.pid)) - cpu0.server,
    emulator: (await cpuMsOf(emulator.pid!)) - cpu0.emulator,
    bench: (benchCpu.user + benchCpu.system) / 1000,
  };
  await stopChild(worker, 20_000);

  const stats = await emulatorStats();
  const histories = await historiesOf(client, summary.jobId);
  if (args.keep) {
    // Every run of the job and of the account's poller, as JSON, to read the timeline closer (a poller run's history
    // may pass the client's 4 MB message limit at 1M requests: then the poller's is left out).
    await mkdir(path.join(tmp, 'histories'));
    await writeFile(path.join(tmp, 'histories', 'job.json'), JSON.stringify(histories));
    const pollerId = pollerWorkflowId(pollerAccountOf(new Anthropic({ apiKey: 'sk-emulator', baseURL: emulatorUrl })));
    const pollerHistories = await historiesOf(client, pollerId).catch(() => undefined);
    if (pollerHistories) await writeFile(path.join(tmp, 'histories', 'poller.json'), JSON.stringify(pollerHistories));
  }
  const runs = histories.map((h) => h.events?.length ?? 0);
  const failedTasks = failedWorkflowTasks(histories);
  const batches = Math.ceil(N / BATCH);
  const minimum = 2 * batches;
  const total = totalCalls(stats);
  const sends = await sendsAgainstAttempts(store, summary.jobId, stats);
  const bareTotal = totalCalls(bareStats);

  console.log(`\nSluice against the bare SDK loop, in this run, against the same emulator (${N} requests, ${batches} batches)`);
  printTable(
    ['measure', 'Sluice', 'bare loop', 'ratio', 'target'],
    [
      ['wall time', seconds(wallMs), seconds(bare.wallMs), ratio(wallMs, bare.wallMs), N >= 100_000 ? '≤ 2.0x' : '≤ 3.0x'],
      ['CPU: client + worker (+ Temporal server)', `${seconds(cpu.bench + cpu.worker)} (+ ${seconds(cpu.server)})`, seconds(bare.cpuMs), `${ratio(cpu.bench + cpu.worker, bare.cpuMs)} (${ratio(cpu.bench + cpu.worker + cpu.server, bare.cpuMs)})`, ''],
      ['CPU: emulator', seconds(cpu.emulator), seconds(bareEmulatorCpu), ratio(cpu.emulator, bareEmulatorCpu), ''],
      ['API calls', String(total), String(bareTotal), ratio(total, bareTotal), `minimum ${minimum} + polls`],
      ['peak RSS', mb(peakRss), mb(bare.peakRssBytes), ratio(peakRss, bare.peakRssBytes), `worker budget ${WORKER_MEMORY_MB} MB`],
      [
        'succeeded',
        String(summary.outcomes.succeeded),
        `${bare.succeeded} (+ ${bare.otherResults} not retried)`,
        '',
        summary.outcomes.succeeded === N && bare.succeeded + bare.otherResults === N ? 'ok' : 'MISSING RESULTS',
      ],
    ],
  );

  console.log('\nThe job');
  const rows: [string, string, string][] = [
    ['wall time', seconds(wallMs), wallMs < 60_000 ? 'target < 60 s: ok' : 'target < 60 s: MISSED'],
    ['worker memory budget', `${WORKER_MEMORY_MB} MB`, 'SLUICE_WORKER_MEMORY_MB: the worker sets its own heap limit and sizes'],
    ['worker peak RSS', mb(peakRss), peakRss < 400 * 2 ** 20 ? 'target < 400 MB: ok' : 'target < 400 MB: MISSED'],
    ...Object.entries(stats.calls).map(([k, v]): [string, string, string] => [`calls: ${k}`, String(v), '']),
    ['calls: total', String(total), `minimum ${minimum} (creates + results); ratio ${(total / minimum).toFixed(3)} (target ≤ 1.2)`],
    ['requests sent (emulator)', String(sends.sent), 'requests in created batches + synchronous calls'],
    ['attempts made (results.jsonl)', String(sends.attempts), 'batches each request names + synchronous calls; expired ones retried count'],
    [
      'sent beyond attempts',
      String(Math.max(0, sends.sent - sends.attempts)),
      sends.sent <= sends.attempts && sends.twice === 0 ? 'ok: nothing paid twice' : `EXCESS: ${sends.twice} wire ids in two batches`,
    ],
    ['history runs', String(runs.length), ''],
    ['history events per run', runs.join(', '), Math.max(...runs) < 10_000 ? 'target < 10,000: ok' : 'target < 10,000: MISSED'],
    // A failed task (e.g. a continue-as-new refused because a signal came meanwhile) costs a replay of the whole run.
    ['failed workflow tasks', String(failedTasks.total), failedTasks.causes || 'none'],
  ];
  printTable(['measure', 'value', 'note'], rows);

  const b = historyBreakdown(histories);
  console.log('\nWhere the job\'s wall time went (from its histories; each moment given to what the job waited on)');
  const share = (x: number) => `${((100 * x) / wallMs).toFixed(0)} %`;
  const avg = (x: number, n: number) => (n > 0 ? `${(x / n).toFixed(0)} ms` : '');
  printTable(
    ['waiting on', 'count', 'wall', 'share', 'avg schedule→start', 'avg start→close'],
    [
      ['client: check + upload input, start', '', seconds(b.firstEventMs - started), share(b.firstEventMs - started), '', ''],
      ...b.kinds.map((k) => [k.kind, k.count ? String(k.count) : '', seconds(k.wallMs), share(k.wallMs), avg(k.queuedMs, k.count), avg(k.runMs, k.count)]),
      ['client: result seen', '', seconds(started + wallMs - b.lastEventMs), share(started + wallMs - b.lastEventMs), '', ''],
    ],
  );

  console.log('\nWorker RSS by phase (sampled every 250 ms; the peak row is the kernel\'s high-water mark)');
  const rssRows = b.phases.map((phase) => {
    const peak = peakWithin(rssSamples, phase.fromMs, phase.toMs);
    return [phase.kind, peak ? mb(peak.bytes) : '', peak ? seconds(peak.atMs - started) : ''];
  });
  const sampledPeak = peakWithin(rssSamples, started, started + wallMs);
  rssRows.push(['the whole job (sampled)', sampledPeak ? mb(sampledPeak.bytes) : '', sampledPeak ? seconds(sampledPeak.atMs - started) : '']);
  rssRows.push(['peak (VmHWM)', mb(peakRss), '']);
  printTable(['phase', 'RSS peak', 'at'], rssRows);

  console.log('\nCPU by process while the job ran');
  printTable(
    ['process', 'CPU', 'of wall time'],
    [
      ['worker', seconds(cpu.worker), share(cpu.worker)],
      ['Temporal dev server', seconds(cpu.server), share(cpu.server)],
      ['emulator', seconds(cpu.emulator), share(cpu.emulator)],
      ['bench client (input check, upload, start, wait)', seconds(cpu.bench), share(cpu.bench)],
    ],
  );

  if (PROFILE) {
    const windows: [string, ProfileWindow][] = [['the whole job', { fromUs: startedUs, toUs: endedUs }]];
    for (const phase of b.phases) {
      windows.push([`${phase.kind} (${seconds(phase.toMs - phase.fromMs)} from first schedule to last close)`, { fromUs: toMonotonicUs(phase.fromMs), toUs: toMonotonicUs(phase.toMs) }]);
    }
    for (const [i, [what, window]] of windows.entries()) {
      const p = await summarizeProfiles(profileDir, window, i === 0 ? 12 : 6);
      const pct = (x: number) => `${((100 * x) / Math.max(1, p.totalMs)).toFixed(0)} %`;
      console.log(`\nWorker CPU profile, ${what}: ${seconds(p.totalMs)} on CPU in ${p.files} threads; self time by place`);
      printTable(['place', 'self', 'share'], p.places.map((e) => [e.name, seconds(e.selfMs), pct(e.selfMs)]));
      printTable(['innermost Sluice function on the stack', 'self', 'share'], p.sluiceCallers.map((e) => [e.name, seconds(e.selfMs), pct(e.selfMs)]));
      if (i === 0) printTable(['thread', 'CPU', 'of wall time'], p.threads.map((e) => [e.name, seconds(e.selfMs), `${((100 * e.selfMs) / wallMs).toFixed(0)} %`]));
      if (i === 0) printTable(['function', 'self', 'share'], p.functions.map((e) => [e.name, seconds(e.selfMs), pct(e.selfMs)]));
    }
  }

  await clientConnection.close();
  await stopChild(emulator);
  await server.stop();
  if (args.keep) console.log(`\nKept the run's files (input, store, profile/): ${tmp}`);
  else await rm(tmp, { recursive: true, force: true });
}

/** The bare loop in a process of its own; it prints its result as one JSON line. */
async function runBareLoop(input: string, baseURL: string): Promise<BareLoopResult> {
  const child = spawn(
    process.execPath,
    [
      '--import', 'tsx', path.join(__dirname, 'bare-loop.ts'), '--input', input, '--base-url', baseURL,
      '--batch-size', String(BATCH), '--concurrency', args['baseline-concurrency'], '--max-in-flight', String(MAX_BATCHES_IN_FLIGHT),
      '--poll-initial-ms', String(POLL.initialMs), '--poll-growth', String(POLL.growth), '--poll-cap-ms', String(POLL.capMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the bare loop exited ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!) as BareLoopResult;
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

/** The worker's process, and the process it re-executed itself as to set its own heap limit, if it did. */
async function workerProcessPids(pid: number): Promise<number[]> {
  return [pid, ...(await childPidsOf(pid))];
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/** Workflow tasks that failed, over every run, by cause (temporal.api.enums.v1.WorkflowTaskFailedCause's number). */
function failedWorkflowTasks(histories: temporal.api.history.v1.IHistory[]): { total: number; causes: string } {
  const byCause = new Map<string, number>();
  for (const h of histories) {
    for (const e of h.events ?? []) {
      const f = e.workflowTaskFailedEventAttributes;
      if (!f) continue;
      const cause = temporal.api.enums.v1.WorkflowTaskFailedCause[f.cause ?? 0] ?? String(f.cause);
      byCause.set(cause, (byCause.get(cause) ?? 0) + 1);
    }
  }
  const total = [...byCause.values()].reduce((a, n) => a + n, 0);
  return { total, causes: [...byCause].map(([c, n]) => `${n} ${c.replace('WORKFLOW_TASK_FAILED_CAUSE_', '')}`).join(', ') };
}
