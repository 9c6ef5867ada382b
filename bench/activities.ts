/**
 * The worker's CPU per submit and per collect activity, without Temporal (`npm run bench:activities`): the real
 * activities, the local store in a temporary directory and the official SDK against the emulator (its own process,
 * so its CPU is not counted), run a few at a time as the job's lanes run them. Prints, per kind of activity, the CPU
 * this process used per activity (user and system, every thread: the store's thread pool too) and the store
 * operations each made. What Temporal adds per activity (its bridge, the workflow activations) is in `npm run bench`.
 *
 *   npm run bench:activities -- --batches 300 --concurrency 8
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities';
import { jobKeys, originalShardKey, type ShardLine } from '../src/domain/job';
import { mapLimit } from '../src/domain/map-limit';
import { DEFAULT_PRICES } from '../src/domain/prices';
import { QueueCapacitySchema } from '../src/domain/queue';
import type { BlobStore } from '../src/store/blob-store';
import { LocalDirectoryStore } from '../src/store/local-store';
import { freePort } from '../src/dev/dev-server';
import { waitForHttp } from './job-measures';
import { summarizeProfiles } from './cpu-profile';
import { printTable } from './report';

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '300' },
    'batch-size': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '8' },
    /** Also profile each measured phase (this process's main thread) and print its self time by place. */
    profile: { type: 'boolean', default: false },
  },
});
const BATCHES = Number(args.batches);
const BATCH = Number(args['batch-size']);
const CONCURRENCY = Number(args.concurrency);
const PROFILE = args.profile;
const WARM_UP = 30;
const cli = path.join(__dirname, '..', 'src', 'cli', 'main.ts');

/** The store with a count of each operation, so the table shows what one activity asks of it. */
function countingStore(store: BlobStore) {
  const counts: Record<string, number> = {};
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...a: unknown[]) => {
        counts[prop] = (counts[prop] ?? 0) + 1;
        return (value as (...x: unknown[]) => unknown).apply(target, a);
      };
    },
  });
  return { store: wrapped, counts };
}

function shardOf(shard: number): ShardLine[] {
  return Array.from({ length: BATCH }, (_, i) => ({
    custom_id: `r${shard * BATCH + i}`,
    line: shard * BATCH + i + 1,
    origin: shard,
    attempt: 1,
    batch_ids: [],
    params: {
      model: 'claude-haiku-4-5',
      max_tokens: 32,
      messages: [{ role: 'user', content: `Classify item ${shard * BATCH + i}: a short text of about eighty characters, padded.` }],
    },
  }));
}

async function main() {
  const port = await freePort();
  const emulator = spawn(process.execPath, ['--import', 'tsx', cli, 'emulator', '--port', String(port), '--time-scale', '0.00001'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-activities-'));
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/_emulator/stats`);
    const { store, counts } = countingStore(new LocalDirectoryStore(dir));
    const anthropic = new Anthropic({ apiKey: 'sk-emulator', baseURL: url, maxRetries: 2 });
    const anthropicNoRetry = anthropic.withOptions({ maxRetries: 0 });
    const acts = createActivities({ store, anthropic, anthropicNoRetry, prices: DEFAULT_PRICES, queueCapacity: QueueCapacitySchema.parse({}) });
    const env = new MockActivityEnvironment();
    const run = <A, R>(fn: (a: A) => Promise<R>, a: A): Promise<R> => env.run<[A], R, (a: A) => Promise<R>>(fn, a);
    const jobId = 'bench-activities';
    const total = WARM_UP + BATCHES;
    for (let s = 0; s < total; s++) await store.writeLines(jobKeys.shard(jobId, originalShardKey(s)), shardOf(s).map((l) => JSON.stringify(l)));

    const rows: string[][] = [];
    const profiles: { name: string; dir: string }[] = [];
    const session = new Session();
    session.connect();
    if (PROFILE) await session.post('Profiler.enable');
    /** Runs one kind of activity over shards [from, to), measured unless it is the warm-up. */
    const phase = async <R>(name: string, from: number, to: number, run: (shard: number) => Promise<R>): Promise<R[]> => {
      for (const k of Object.keys(counts)) delete counts[k];
      const profiled = PROFILE && from >= WARM_UP;
      if (profiled) await session.post('Profiler.start');
      // How long the event loop was held between turns: what synchronous store calls cost the activities beside them.
      const loopDelay = monitorEventLoopDelay({ resolution: 1 });
      loopDelay.enable();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const out = await mapLimit(
        Array.from({ length: to - from }, (_, i) => from + i),
        CONCURRENCY,
        run,
      );
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      loopDelay.disable();
      if (profiled) {
        const { profile } = await session.post('Profiler.stop');
        const profileDir = path.join(dir, 'profiles', name);
        await mkdir(profileDir, { recursive: true });
        await writeFile(path.join(profileDir, 'main.cpuprofile'), JSON.stringify(profile));
        profiles.push({ name, dir: profileDir });
      }
      const n = to - from;
      if (from >= WARM_UP) {
        const ops = Object.entries(counts)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([op, c]) => `${op} ${(c / n).toFixed(1)}`)
          .join(', ');
        rows.push([name, String(n), ((cpu.user + cpu.system) / 1000 / n).toFixed(2), (cpu.user / 1000 / n).toFixed(2), (cpu.system / 1000 / n).toFixed(2), (wallMs / n).toFixed(2), (loopDelay.percentile(99) / 1e6).toFixed(1), (loopDelay.max / 1e6).toFixed(1), ops]);
      }
      return out;
    };
    const submitted: { batchId: string }[] = [];
    const submit = (shard: number) => run(acts.submitBatch, { jobId, shardKey: originalShardKey(shard) });
    submitted.push(...(await phase('submit (warm-up)', 0, WARM_UP, submit)));
    submitted.push(...(await phase('submit', WARM_UP, total, submit)));
    // At this time scale every batch ends within milliseconds; the list page gives each one's results URL.
    const resultsUrl = new Map<string, string>();
    for (;;) {
      for await (const b of anthropic.messages.batches.list({ limit: 1000 })) {
        if (b.processing_status === 'ended' && b.results_url) resultsUrl.set(b.id, b.results_url);
      }
      if (submitted.every((s) => resultsUrl.has(s.batchId))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const collect = (shard: number) =>
      run(acts.collectBatch, {
        jobId,
        batchId: submitted[shard]!.batchId,
        resultsUrl: resultsUrl.get(submitted[shard]!.batchId),
        shardKey: originalShardKey(shard),
        maxAttempts: 3,
        jobCanceled: false,
      });
    await phase('collect (warm-up)', 0, WARM_UP, collect);
    const collected = await phase('collect', WARM_UP, total, collect);
    const succeeded = collected.reduce((n, r) => n + r.succeeded, 0);
    if (succeeded !== BATCHES * BATCH) throw new Error(`expected ${BATCHES * BATCH} succeeded, got ${succeeded}`);

    console.log(`\nCPU per activity, ${BATCHES} batches of ${BATCH} requests, ${CONCURRENCY} at a time (after ${WARM_UP} of each to warm up)`);
    printTable(['activity', 'count', 'CPU ms each', 'user ms', 'system ms', 'wall ms each', 'loop delay p99 ms', 'loop delay max ms', 'store operations each'], rows);
    for (const p of profiles) {
      const s = await summarizeProfiles(p.dir, { fromUs: 0, toUs: Number.MAX_SAFE_INTEGER }, 15);
      const each = (ms: number) => `${((ms * 1000) / BATCHES).toFixed(0)} µs`;
      console.log(`\nMain thread's profile, ${p.name}: ${each(s.totalMs)} on CPU per activity; self time per activity`);
      printTable(['place', 'self'], s.places.map((e) => [e.name, each(e.selfMs)]));
      printTable(['innermost Sluice function on the stack', 'self'], s.sluiceCallers.map((e) => [e.name, each(e.selfMs)]));
      printTable(['function', 'self'], s.functions.map((e) => [e.name, each(e.selfMs)]));
    }
    session.disconnect();
  } finally {
    emulator.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
