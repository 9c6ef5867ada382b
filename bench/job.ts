/**
 * `npm run bench`: one job of N requests (default 100,000) against the emulator with near-instant processing,
 * on a real Temporal dev server, with the worker in this process. Prints wall time, API calls by endpoint
 * against the minimum, requests sent (emulator stats) against attempts made (results.jsonl), the worker's peak RSS
 * and history events per run.
 *
 *   npm run bench -- --requests 20000
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { startJob, waitForJob } from '../src/client/jobs';
import { freePort, startDevServer, stopChild } from '../src/dev/dev-server';
import { requireTemporalCliPath } from '../src/dev/temporal-cli';
import { jobKeys, type OutcomeLine } from '../src/domain/job';
import { decodeWireId } from '../src/domain/wire-id';
import type { EmulatorStats } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';
import { peakRssOf, printTable, runToEnd } from './report';

const { values: args } = parseArgs({
  options: { requests: { type: 'string', default: '100000' }, 'batch-size': { type: 'string', default: '100' } },
});
const N = Number(args.requests);
const BATCH = Number(args['batch-size']);
const WORKER_HEAP_MB = 192;
const TIME_SCALE = 0.00001;
/**
 * Results kept for a real day. At this time scale the API's 29 days of retention last 25 s real, and on a loaded
 * machine more than that can pass between a batch's create and its collect: its results would be archived (a
 * lasting 404) although a real job collects within minutes of a batch's end, far inside the 29 days.
 */
const RESULTS_RETENTION_NOMINAL_MS = 86_400_000 / TIME_SCALE;

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-'));
  const input = path.join(tmp, 'input.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < N; i++) {
    lines.push(JSON.stringify({ custom_id: `r${i}`, params: { model: 'claude-haiku-4-5', max_tokens: 32, messages: [{ role: 'user', content: `Classify item ${i}: a short text of about eighty characters, padded.` }] } }));
  }
  await writeFile(input, lines.join('\n') + '\n');

  const binary = await requireTemporalCliPath({ log: console.error });
  const server = await startDevServer({ binary, port: await freePort() });
  // The emulator runs in its own process so the RSS measured here is the worker's alone.
  const emulatorPort = await freePort();
  const emulator = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, '..', 'src', 'cli', 'main.ts'), 'emulator', '--port', String(emulatorPort), '--time-scale', String(TIME_SCALE), '--results-retention-ms', String(RESULTS_RETENTION_NOMINAL_MS)],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  await waitForHttp(`${emulatorUrl}/_emulator/stats`);

  // The worker runs in its own process, with a prebuilt workflow bundle as in production; its peak RSS is
  // the kernel's high-water mark (VmHWM), read just before it is stopped.
  const bundle = path.join(tmp, 'workflow-bundle.js');
  await runToEnd(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'scripts', 'build-workflow-bundle.ts'), bundle]);
  const storeDir = path.join(tmp, 'store');
  const taskQueue = 'bench';
  // A bounded heap, as docs/production.md recommends: V8 otherwise keeps garbage until it nears its default cap.
  const worker = spawn(process.execPath, [`--max-old-space-size=${WORKER_HEAP_MB}`, '--import', 'tsx', path.join(__dirname, '..', 'src', 'cli', 'main.ts'), 'worker'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      SLUICE_TASK_QUEUE: taskQueue,
      ANTHROPIC_API_KEY: 'sk-emulator',
      ANTHROPIC_BASE_URL: emulatorUrl,
      SLUICE_STORE_DIR: storeDir,
      SLUICE_WORKFLOW_BUNDLE: bundle,
      SLUICE_LOG_LEVEL: 'warn',
    },
  });
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection });
  const store = new LocalDirectoryStore(storeDir);

  const started = Date.now();
  const { workflowId } = await startJob({
    client,
    store,
    taskQueue,
    file: input,
    name: 'bench',
    options: { batchSize: BATCH, maxBatchesInFlight: 1_000, poll: { initialMs: 250, growth: 1.5, capMs: 1_000 } },
  });
  const summary = await waitForJob(client, workflowId);
  const wallMs = Date.now() - started;
  const peakRss = await peakRssOf(worker.pid!);
  await stopChild(worker);

  const stats = (await (await fetch(`${emulatorUrl}/_emulator/stats`)).json()) as EmulatorStats;
  const runs = await historyPerRun(client, summary.jobId);
  const batches = Math.ceil(N / BATCH);
  const minimum = 2 * batches;
  const total = Object.values(stats.calls).reduce((a, b) => a + b, 0);
  const sends = await sendsAgainstAttempts(store, summary.jobId, stats);

  const rows: [string, string, string][] = [
    ['requests', String(N), ''],
    ['succeeded', String(summary.outcomes.succeeded), summary.outcomes.succeeded === N ? 'ok' : 'MISSING RESULTS'],
    ['wall time', `${(wallMs / 1000).toFixed(1)} s`, wallMs < 60_000 ? 'target < 60 s: ok' : 'target < 60 s: MISSED'],
    ['worker heap cap', `${WORKER_HEAP_MB} MB`, '--max-old-space-size, as in production'],
    ['worker peak RSS', `${(peakRss / 2 ** 20).toFixed(0)} MB`, peakRss < 400 * 2 ** 20 ? 'target < 400 MB: ok' : 'target < 400 MB: MISSED'],
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
  ];
  printTable(['measure', 'value', 'note'], rows);

  await clientConnection.close();
  await stopChild(emulator);
  await server.stop();
  await rm(tmp, { recursive: true, force: true });
}

/** What the emulator received against what Sluice says it sent (results.jsonl); any excess was paid twice. */
async function sendsAgainstAttempts(store: LocalDirectoryStore, jobId: string, stats: EmulatorStats) {
  let attempts = 0;
  for await (const text of store.readLines(jobKeys.output(jobId, 'results.jsonl'))) {
    const o = JSON.parse(text) as OutcomeLine;
    attempts += o.mode === 'sync' ? o.attempts : o.batch_ids.length;
  }
  let sent = 0;
  let twice = 0;
  for (const [id, x] of Object.entries(stats.submissions)) {
    sent += x.batch + x.sync;
    if (decodeWireId(id) !== undefined && x.batch > 1) twice++;
  }
  return { sent, attempts, twice };
}

async function historyPerRun(client: Client, workflowId: string): Promise<number[]> {
  const counts: number[] = [];
  let runId: string | undefined;
  // Walk back from the last run through firstExecutionRunId chains: list all runs of this id instead.
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runId = wf.runId;
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    counts.push(history.events?.length ?? 0);
  }
  return counts.reverse();
}



async function waitForHttp(url: string) {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}


main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
