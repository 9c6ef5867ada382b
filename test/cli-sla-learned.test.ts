// `sluice sla 8h --window learned`, run as a user runs it, against a store holding the account's batch timings.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { jobKeys, type BatchTiming } from '../src/domain/job';
import { LocalDirectoryStore } from '../src/store/local-store';

const ROOT = path.resolve(__dirname, '..');
const MIN = 60_000;

function sluice(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** 200 batches that took 1..200 minutes, the newest seen 10 minutes ago. */
async function storeWithHistory(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-sla-cli-'));
  const store = new LocalDirectoryStore(dir);
  const seenAtMs = Date.now() - 10 * MIN;
  for (let i = 0; i < 200; i++) {
    const t: BatchTiming = {
      batchId: `msgbatch_h${i}`,
      createdAtMs: seenAtMs - (i + 1) * MIN,
      endedAtMs: seenAtMs,
      seenAtMs,
      requests: 100,
      counts: { succeeded: 100, errored: 0, canceled: 0, expired: 0 },
    };
    await store.writeJson(jobKeys.timing(t.batchId), t);
  }
  return dir;
}

test('sluice sla 8h --window learned: the model, its sample count and age, and the latest batch submission', async () => {
  const dir = await storeWithHistory();
  const before = Date.now();
  const run = await sluice(['sla', '8h', '--window', 'learned'], { SLUICE_STORE_DIR: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /from 200 ended batches \(200 on record, 0 canceled before ending\), newest seen 10m/);
  assert.match(run.stdout, /p50 1h 40m, p90 3h, p99 3h 18m, p99.5 3h 19m/);
  assert.match(run.stdout, /window\s+3h 18m\s+\(p99, at least 1h, at most 24h\)/);
  assert.match(run.stdout, /submit every\s+2h 42m/);
  // The latest batch for work starting now: now + 8 h − 3 h 18 m − 2 h.
  const latest = /latest batch at\s+(\S+)/.exec(run.stdout)?.[1];
  const latestMs = Date.parse(latest ?? '');
  const expected = before + 8 * 60 * MIN - 198 * MIN - 120 * MIN;
  assert.ok(latestMs >= expected && latestMs <= expected + 60_000, `latest batch ${latest}`);
});

test('sluice sla 8h --window learned with no records: falls back to 24 h, and no batch fits an 8 h SLA', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-sla-cli-'));
  const run = await sluice(['sla', '8h', '--window', 'learned'], { SLUICE_STORE_DIR: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /window\s+24h\s+\(fallback to the fixed window: thin data: 0 ended batches on record, fewer than 100\)/);
  assert.match(run.stdout, /no batch can be trusted/);
});
