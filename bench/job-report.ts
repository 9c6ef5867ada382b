/**
 * Job report benchmark (`npm run bench:report`): the report of synthetic finished jobs of 1,000 to 100,000 requests
 * (sub-batches of 100, 2 % retried once, 0.5 % failed), written into a temporary store as the activities write them.
 * Prints how long drawing the report takes, the page's size, and, when Chromium is there, how long the browser takes
 * until every chart is drawn.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { jobKeys, originalShardKey, retryShardKey, type BatchTiming, type OutcomeLine } from '../src/domain/job';
import { DEFAULT_PRICES } from '../src/domain/prices';
import type { ReportSummary } from '../src/domain/report-data';
import { buildJobReport } from '../src/report';
import { CHART_IDS } from '../src/report/chart-options';
import { LocalDirectoryStore } from '../src/store/local-store';
import { printTable } from './report';

const SIZES = [1_000, 10_000, 100_000];
const BATCH = 100;
const CHROMIUM = '/usr/bin/chromium';
const T0 = Date.parse('2026-12-01T02:00:00Z');
const MINUTE = 60_000;

async function syntheticJob(store: LocalDirectoryStore, jobId: string, requests: number): Promise<void> {
  const shards = Math.ceil(requests / BATCH);
  const retried: number[] = [];
  const timing = (batchId: string, startMs: number, minutes: number, n: number): BatchTiming => ({
    batchId,
    createdAtMs: startMs,
    endedAtMs: startMs + minutes * MINUTE,
    requests: n,
    counts: { succeeded: n, errored: 0, canceled: 0, expired: 0 },
  });
  const submit = async (shardKey: string, batchId: string, startMs: number, minutes: number, n: number) => {
    await store.writeJson(jobKeys.submission(jobId, shardKey), {
      shardKey,
      requests: n,
      intentAtMs: startMs,
      batchId,
      createdAtMs: startMs,
    });
    await store.writeJson(jobKeys.timing(batchId), timing(batchId, startMs, minutes, n));
    await store.writeJson(jobKeys.seenEnded(batchId), { batchId, seenEndedAtMs: startMs + minutes * MINUTE + 20_000 });
  };
  for (let s = 0; s < shards; s++)
    await submit(originalShardKey(s), `msgbatch_${jobId}_${s}`, T0 + s * 1_000, 20 + ((s * 37) % 90), BATCH);
  const lines: string[] = [];
  let failed = 0;
  for (let i = 0; i < requests; i++) {
    const shard = Math.floor(i / BATCH);
    const retry = i % 50 === 7;
    if (retry) retried.push(i);
    const batchIds = [
      `msgbatch_${jobId}_${shard}`,
      ...(retry ? [`msgbatch_${jobId}_r${Math.floor(retried.length / BATCH)}`] : []),
    ];
    const o: OutcomeLine =
      i % 200 === 3
        ? {
            custom_id: `doc-${i}`,
            line: i + 1,
            status: 'failed',
            attempts: 1,
            batch_ids: batchIds,
            error: { type: 'invalid_request_error', message: '' },
          }
        : {
            custom_id: `doc-${i}`,
            line: i + 1,
            status: 'succeeded',
            attempts: batchIds.length,
            batch_ids: batchIds,
            mode: 'batch',
            message: {
              model: 'claude-haiku-4-5',
              content: [{ type: 'text', text: 'x'.repeat(200) }],
              usage: { input_tokens: 400, output_tokens: 60 },
            },
          };
    if (o.status === 'failed') failed++;
    lines.push(JSON.stringify(o));
  }
  for (let r = 0; r * BATCH < retried.length; r++) {
    await submit(
      retryShardKey(1, r),
      `msgbatch_${jobId}_r${r}`,
      T0 + 3 * 3_600_000 + r * 1_000,
      30,
      Math.min(BATCH, retried.length - r * BATCH),
    );
  }
  await store.writeLines(jobKeys.output(jobId, 'results.jsonl'), lines);
  const summary: ReportSummary = {
    jobId,
    name: 'bench',
    requests,
    outcomes: { succeeded: requests - failed, failed, canceled: 0, sla_missed: 0, not_run: 0, invalid_output: 0 },
    attempts: { '1': requests - retried.length, '2': retried.length },
    byMode: { batch: requests - failed, sync: 0 },
    tokens: { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 },
    costUsd: 0,
    costByMode: { batch: 0, sync: 0 },
    syncEquivalentUsd: 0,
    savedUsd: 0,
    unpricedModels: [],
    batchesCreated: shards + Math.ceil(retried.length / BATCH),
    wallTimeMs: 5 * 3_600_000,
    finishedAt: new Date(T0 + 5 * 3_600_000).toISOString(),
  };
  await store.writeJson(jobKeys.output(jobId, 'summary.json'), summary);
}

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-report-'));
  const store = new LocalDirectoryStore(dir);
  const browser = existsSync(CHROMIUM)
    ? await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      })
    : undefined;
  const rows: string[][] = [];
  try {
    for (const requests of SIZES) {
      const jobId = `bench-${requests}`;
      await syntheticJob(store, jobId, requests);
      const started = performance.now();
      const html = await buildJobReport({ store, jobId, prices: DEFAULT_PRICES });
      const buildMs = performance.now() - started;
      let renderMs = NaN;
      if (browser) {
        const file = path.join(dir, `${jobId}.html`);
        await writeFile(file, html);
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        const opened = performance.now();
        await page.goto(`file://${file}`);
        for (const id of CHART_IDS)
          await page.locator(`#chart-${id}[data-rendered="true"]`).waitFor({ timeout: 120_000 });
        renderMs = performance.now() - opened;
        await page.close();
      }
      rows.push([
        requests.toLocaleString('en-US'),
        String(Math.ceil(requests / BATCH) + Math.ceil(Math.ceil(requests / 50) / BATCH)),
        buildMs.toFixed(0),
        (Buffer.byteLength(html) / 1024 / 1024).toFixed(2),
        browser ? renderMs.toFixed(0) : 'no Chromium',
      ]);
    }
  } finally {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  }
  printTable(['requests', 'sub-batches', 'report drawn (ms)', 'page (MB)', 'Chromium, all charts (ms)'], rows);
}

void main();
