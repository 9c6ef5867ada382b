/**
 * `npm run bench:sla`: a week of nightly audits under a 30 h SLA, run for real (dev server, worker, emulator)
 * with time compressed 1,000-fold (30 h take 108 s; much more compression starves 2 cores). Batch latencies follow the emulator's realistic model:
 * median 5 min, a log-normal tail towards 24 h, and some requests that expire at 24 h. Each night runs three
 * ways, side by side: Sluice (window rule, sync fallback, stragglers), all synchronous, and batch-only with no
 * deadline logic. Prints SLA attainment and cost for each.
 *
 *   npm run bench:sla -- --nights 7 --requests 1000
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { JobSummary } from '../src/activities/finalize';
import { startJob, waitForJob } from '../src/client/jobs';
import { freePort, startDevServer } from '../src/dev/dev-server';
import { requireTemporalCliPath } from '../src/dev/temporal-cli';
import type { SlaPolicyInput } from '../src/domain/sla-route';
import { startEmulator } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';
import { createSluiceWorker } from '../src/worker';
import { printTable } from './report';

const { values: args } = parseArgs({
  options: {
    nights: { type: 'string', default: '7' },
    requests: { type: 'string', default: '1000' },
    scale: { type: 'string', default: '0.001' },
    'expired-rate': { type: 'string', default: '0.001' },
  },
});
const NIGHTS = Number(args.nights);
const REQUESTS = Number(args.requests);
const SCALE = Number(args.scale);
const H = 3_600_000;
const SLA_MS = 30 * H;

type Strategy = 'sluice' | 'all-sync' | 'batch-only';
const STRATEGIES: Strategy[] = ['sluice', 'all-sync', 'batch-only'];

function policyFor(strategy: Strategy, deadlineMs: number): SlaPolicyInput {
  const scaled = { windowMs: 24 * H * SCALE, marginMs: 2 * H * SCALE, syncRequestMs: Math.max(1, 60_000 * SCALE) };
  if (strategy === 'all-sync') return { ...scaled, mode: 'sync', syncConcurrency: 16, maxSyncShardsInFlight: 4 };
  if (strategy === 'batch-only') return { ...scaled, mode: 'batch' };
  return { ...scaled, deadlineMs, mode: 'auto', syncConcurrency: 16, maxSyncShardsInFlight: 4 };
}

interface NightResult {
  strategy: Strategy;
  night: number;
  met: boolean;
  lateMs: number;
  summary: JobSummary;
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-sla-'));
  const binary = await requireTemporalCliPath({ log: console.error });
  const server = await startDevServer({ binary, port: await freePort() });
  const emulator = await startEmulator({ timeScale: SCALE, seed: 2026, faults: { expiredRate: Number(args['expired-rate']) } });
  const connection = await NativeConnection.connect({ address: server.address });
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection });
  const storeDir = path.join(tmp, 'store');
  const store = new LocalDirectoryStore(storeDir);
  const taskQueue = 'bench-sla';
  const worker = await createSluiceWorker({
    connection,
    namespace: 'default',
    taskQueue,
    apiKey: emulator.apiKey,
    baseURL: emulator.url,
    storeDir,
    activityConcurrency: 64,
  });

  const inputs: string[] = [];
  for (let night = 0; night < NIGHTS; night++) {
    const file = path.join(tmp, `night-${night}.jsonl`);
    const lines = Array.from({ length: REQUESTS }, (_, i) =>
      JSON.stringify({ custom_id: `n${night}-${i}`, params: { messages: [{ role: 'user', content: `Audit file ${i} of night ${night}.` }] } }),
    );
    await writeFile(file, lines.join('\n') + '\n');
    inputs.push(file);
  }

  console.error(`${NIGHTS} nights × ${STRATEGIES.length} strategies × ${REQUESTS} requests; 30 h SLA = ${((SLA_MS * SCALE) / 1000).toFixed(1)} s`);
  const started = Date.now();
  const results = await worker.runUntil(
    Promise.all(
      inputs.flatMap((file, night) =>
        STRATEGIES.map(async (strategy): Promise<NightResult> => {
          const startMs = Date.now();
          const deadlineMs = startMs + SLA_MS * SCALE;
          const { workflowId } = await startJob({
            client,
            store,
            taskQueue,
            file,
            name: `${strategy}-night-${night}`,
            defaults: { model: 'claude-sonnet-4-5', max_tokens: 512 },
            options: { poll: { initialMs: 100, growth: 1.5, capMs: 500 }, sla: policyFor(strategy, deadlineMs) },
          });
          const summary = await waitForJob(client, workflowId);
          const lateMs = Date.now() - deadlineMs;
          return { strategy, night, met: lateMs <= 0 && summary.outcomes.succeeded === REQUESTS, lateMs, summary };
        }),
      ),
    ),
  );

  const syncCost = total(results.filter((r) => r.strategy === 'all-sync'), (r) => r.summary.costUsd);
  const rows = STRATEGIES.map((strategy) => {
    const mine = results.filter((r) => r.strategy === strategy);
    const cost = total(mine, (r) => r.summary.costUsd);
    const worstLate = Math.max(...mine.map((r) => r.lateMs));
    return [
      strategy,
      `${mine.filter((r) => r.met).length}/${mine.length}`,
      `${(worstLate * (1 / SCALE) / H).toFixed(1)} h`,
      `$${cost.toFixed(2)}`,
      (cost / syncCost).toFixed(3),
      `${total(mine, (r) => r.summary.byMode.batch)} / ${total(mine, (r) => r.summary.byMode.sync)}`,
    ];
  });
  printTable(['strategy', 'deadlines met', 'worst finish vs deadline (nominal)', 'cost', 'cost vs all-sync', 'requests batch / sync'], rows);
  const sluice = results.filter((r) => r.strategy === 'sluice');
  const ratio = total(sluice, (r) => r.summary.costUsd) / syncCost;
  const ok = sluice.every((r) => r.met) && ratio <= 0.55;
  console.log(`\nTarget (every deadline met at ≤ 0.55× the all-sync cost): ${ok ? 'met' : 'MISSED'}; wall time ${((Date.now() - started) / 1000).toFixed(0)} s`);

  await emulator.close();
  await clientConnection.close();
  await connection.close();
  await server.stop();
  await rm(tmp, { recursive: true, force: true });
  if (!ok) process.exitCode = 1;
}

function total<T>(items: T[], f: (t: T) => number): number {
  return items.reduce((sum, t) => sum + f(t), 0);
}


main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
