/**
 * The serial phases around the lanes, alone: the client's check and upload of an input (prepareInput), then the plan
 * activity over it (MockActivityEnvironment, the local store, the emulator's Models API), each timed and its CPU
 * counted, `--rounds` times (a fresh store each round).
 *
 *   npm run bench:serial -- --requests 100000 --rounds 3
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities';
import { prepareInput } from '../src/client/prepare-input';
import { DEFAULT_PRICES } from '../src/domain/prices';
import { QueueCapacitySchema } from '../src/domain/queue';
import { startEmulator } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';
import type { PlanInput, PlanResult } from '../src/contracts/activities';
import { writeBenchInput } from './job-measures';

const { values: args } = parseArgs({
  options: { requests: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' } },
});
const N = Number(args.requests);
const ROUNDS = Number(args.rounds);

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sluice-serial-'));
  const input = path.join(tmp, 'input.jsonl');
  await writeBenchInput(input, N);
  const emulator = await startEmulator({ port: 0 });
  const anthropic = new Anthropic({ apiKey: emulator.apiKey, baseURL: emulator.url, maxRetries: 0 });
  const rows: string[][] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const store = new LocalDirectoryStore(path.join(tmp, `store-${round}`));
      const acts = createActivities({ store, anthropic, anthropicNoRetry: anthropic, prices: DEFAULT_PRICES, queueCapacity: QueueCapacitySchema.parse({}) });
      const env = new MockActivityEnvironment();
      const jobId = `serial-${round}`;
      const c = await timed(() => prepareInput({ file: input, jobId, store }));
      const planInput: PlanInput = { jobId, inputKey: c.value.inputKey, batchSize: 100 };
      const p = await timed(() => env.run<[PlanInput], PlanResult, (i: PlanInput) => Promise<PlanResult>>(acts.planJob, planInput));
      rows.push([String(round), ms(c.wallMs), ms(c.cpuMs), ms(p.wallMs), ms(p.cpuMs), String(p.value.shardSizes.length)]);
      await rm(path.join(tmp, `store-${round}`), { recursive: true, force: true });
    }
  } finally {
    await emulator.close();
    await rm(tmp, { recursive: true, force: true });
  }
  console.log(`${N.toLocaleString('en-US')} requests, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('| round | client check + upload wall | CPU | plan wall | CPU | shards |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
}

const ms = (v: number) => `${Math.round(v)} ms`;

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
