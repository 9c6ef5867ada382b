/**
 * `npm run bench:intake`: sustained intake of 100 requests per second, one enqueue call per request, into one
 * intake on a real dev server, with the worker in its own process and the emulator in compressed time. Prints
 * enqueue latency (p50/p99), sub-batch fill rate, the worker's peak RSS and the intake's history per run.
 *
 *   npm run bench:intake -- --seconds 120 --rate 100
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { enqueue, intakeStatus, type IntakeRequest } from '../src/client/intake';
import { freePort, startDevServer, stopChild } from '../src/dev/dev-server';
import { requireTemporalCliPath } from '../src/dev/temporal-cli';
import type { IntakeOptionsInput, Tier } from '../src/domain/intake';
import { startEmulator } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';
import { intakeWorkflowId } from '../src/workflows';
import { peakRssOf, printTable, runToEnd } from './report';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '120' }, rate: { type: 'string', default: '100' } },
});
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const WORKER_HEAP_MB = 192;

/** Windows compressed 1,000-fold: bulk waits at most ~14 s for company, standard ~2 s. */
const OPTIONS: IntakeOptionsInput = {
  checkEveryMs: 500,
  cutLeadMs: 500,
  tiers: { standard: { slaMs: 3_600, windowMs: 1_000, marginMs: 200 }, bulk: { slaMs: 108_000, windowMs: 86_400, marginMs: 7_200 } },
  job: { poll: { initialMs: 250, growth: 1.5, capMs: 1_000 } },
};

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-intake-'));
  const server = await startDevServer({ binary: await requireTemporalCliPath({ log: console.error }), port: await freePort() });
  const emulator = await startEmulator({ timeScale: 0.001, latency: { batch: { kind: 'lognormal', medianMs: 60_000, sigma: 0.5, minMs: 10_000, maxMs: 600_000 } } });
  const storeDir = path.join(tmp, 'store');
  const taskQueue = 'bench-intake';
  const bundle = path.join(tmp, 'workflow-bundle.js');
  await runToEnd(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'scripts', 'build-workflow-bundle.ts'), bundle]);
  const worker = spawn(process.execPath, [`--max-old-space-size=${WORKER_HEAP_MB}`, '--import', 'tsx', path.join(__dirname, '..', 'src', 'cli', 'main.ts'), 'worker'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      SLUICE_TASK_QUEUE: taskQueue,
      ANTHROPIC_API_KEY: emulator.apiKey,
      ANTHROPIC_BASE_URL: emulator.url,
      SLUICE_STORE_DIR: storeDir,
      SLUICE_WORKFLOW_BUNDLE: bundle,
      SLUICE_LOG_LEVEL: 'warn',
    },
  });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const target = { client, store: new LocalDirectoryStore(storeDir), taskQueue, intake: 'bench', options: OPTIONS };

  const latencies: number[] = [];
  const total = SECONDS * RATE;
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const tier: Tier = i % 20 === 0 ? 'urgent' : i % 7 === 0 ? 'standard' : 'bulk';
    const request: IntakeRequest = { custom_id: `r${i}`, tier, params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: `Event ${i}` }] } };
    const t0 = Date.now();
    const p = enqueue(target, [request]).then(([a]) => {
      if (a?.status !== 'accepted') throw new Error(`r${i}: ${a?.status} ${a?.reason ?? ''}`);
      latencies.push(Date.now() - t0);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    // Temporal takes at most 10 updates in flight per workflow; a client keeps below that.
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const enqueueWallS = (Date.now() - started) / 1000;
  let status = await intakeStatus(client, 'bench');
  while (status.counters.succeeded + status.counters.failed < total && Date.now() - started < (SECONDS + 120) * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    status = await intakeStatus(client, 'bench');
  }
  const peakRss = await peakRssOf(worker.pid!);
  const runs: number[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = "${intakeWorkflowId('bench')}"` })) {
    runs.push((await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events?.length ?? 0);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  printTable(
    ['measure', 'value'],
    [
      ['requests enqueued', `${total} in ${enqueueWallS.toFixed(0)} s (${(total / enqueueWallS).toFixed(0)}/s, one call each)`],
      ['enqueue latency p50 / p99', `${pct(50)} ms / ${pct(99)} ms`],
      ['answered', `${status.counters.succeeded} succeeded, ${status.counters.failed} failed`],
      ['sub-batches', `${status.cuts} (${status.counters.coalescedCuts} standard/bulk, filled ${(status.fillRate * 100).toFixed(0)} % of 100 on average)`],
      ['worker peak RSS', `${(peakRss / 2 ** 20).toFixed(0)} MB (heap capped at ${WORKER_HEAP_MB} MB)`],
      ['intake history events per run', `${runs.reverse().join(', ')} (${runs.length} runs)`],
    ],
  );
  await stopChild(worker);
  await connection.close();
  await emulator.close();
  await server.stop();
  await rm(tmp, { recursive: true, force: true });
}




main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
