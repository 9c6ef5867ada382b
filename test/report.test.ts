/**
 * The job report of a real job: the dev server, the emulator and a worker run a job with terminal failures, retries
 * and (past its latest batch submission) synchronous fallbacks. The finalize activity writes report.html next to the
 * results; `sluice report` writes it again. Headless Chromium (through playwright-core) opens the file with every
 * network request refused, checks that each chart was drawn and shows the job's numbers, and that the figures on
 * the page equal summary.json. The screenshot is docs/report.png (refreshed with SLUICE_UPDATE_SCREENSHOT=1).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEMO_INPUT } from '../src/cli/commands/demo';
import { main } from '../src/cli/main';
import { downloadResults, startJob, waitForJob } from '../src/client/jobs';
import { jobKeys, type JobOptionsInput, type OutcomeLine, type SyncTiming } from '../src/domain/job';
import type { ReportSummary, SubmissionFacts } from '../src/domain/report-data';
import { uiLink } from '../src/domain/web-ui';
import { CHART_IDS } from '../src/report/chart-options';
import { readJsonl, startStack, writeJobInput, type TestStack } from './helpers/stack';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = process.env.SLUICE_UPDATE_SCREENSHOT
  ? path.resolve(__dirname, '..', 'docs', 'report.png')
  : path.join(os.tmpdir(), `sluice-report-${process.pid}.png`);
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const WEB_UI = 'http://127.0.0.1:8233';
const PROMPT = 'Summarise document number';

function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `${CHROMIUM} is absent: install it with \`apt-get install -y chromium\` (.ci/run does)`;
  if (/^(1|true|yes)$/i.test(process.env.CI ?? '')) throw new Error(`The report test needs Chromium, and ${why}.`);
  return why;
}

/** 300 requests in sub-batches of 50: every 25th always errors with overloaded_error in a batch (retried, and
 * synchronously once past the latest batch submission, where the emulator answers), 5 are refused for good. */
const customId = (i: number) => (i % 25 === 0 ? `flaky-${i}` : i % 60 === 7 ? `bad-${i}` : `doc-${i}`);

describe('the job report', () => {
  const skip = chromiumMissing();
  let stack: TestStack;
  let browser: Browser | undefined;
  let workflowId: string;
  let summary: ReportSummary;
  let outDir: string;

  /** Runs a job to its end on a worker of its own (a worker stays up only while its job runs). */
  async function runJob(
    file: string,
    name: string,
    options: () => JobOptionsInput,
    defaults = { model: 'claude-haiku-4-5', max_tokens: 128 },
  ) {
    // The worker first: it takes a few seconds to bundle the workflows, and deadlines are set from the job's start.
    const worker = await stack.startWorker({ webUiUrl: WEB_UI });
    const started = await startJob({
      client: stack.env.client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file,
      name,
      defaults,
      options: options(),
    });
    return {
      workflowId: started.workflowId,
      summary: await worker.runUntil(waitForJob(stack.env.client, started.workflowId)),
    };
  }

  /** `sluice report JOB --out DIR`, with the CLI's environment pointing at this stack; returns the exit code and output. */
  async function sluiceReport(t: TestContext, ...args: string[]) {
    const env = { ...process.env };
    t.after(() => {
      process.env = env;
    });
    delete process.env.SLUICE_STORE;
    Object.assign(process.env, {
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
      SLUICE_STORE_DIR: stack.storeDir,
      SLUICE_WEB_UI: WEB_UI,
    });
    const printed: string[] = [];
    const log = t.mock.method(console, 'log', (line: string) => printed.push(line));
    const error = t.mock.method(console, 'error', (line: string) => printed.push(line));
    try {
      return { code: await main(['node', 'sluice', 'report', ...args]), printed };
    } finally {
      log.mock.restore();
      error.mock.restore();
    }
  }

  /** Opens a report in Chromium with every network request refused; waits until each chart has been drawn. */
  async function openReport(file: string): Promise<Page> {
    browser ??= await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const refused: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      refused.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${file}`);
    for (const id of CHART_IDS) {
      await page.locator(`#chart-${id}[data-rendered="true"]`).waitFor({ timeout: 20_000 });
      assert.ok((await page.locator(`#chart-${id} svg path`).count()) > 0, `chart ${id} draws nothing`);
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(refused, [], 'the page needs no network');
    return page;
  }

  before(async () => {
    if (skip) return;
    stack = await startStack({
      timeScale: 0.001,
      latency: {
        batch: { kind: 'lognormal', medianMs: 1_200_000, sigma: 0.35, minMs: 600_000, maxMs: 3_000_000 },
        spread: 0.5,
      },
      faults: {
        errorCustomIds: [
          // Aimed by content: the wire carries Sluice's ids, not the user's.
          { pattern: 'flaky-\\d+:', in: 'messages', type: 'overloaded_error' },
          { pattern: 'bad-\\d+:', in: 'messages', type: 'invalid_request_error', message: 'max_tokens: too large for this model' },
        ],
      },
    });
    ({ workflowId, summary } = await runJob(await writeJobInput(300, { customId, prompt: (i) => `${customId(i)}: summarise document number ${i}.` }), 'nightly-audit', () => ({
      batchSize: 50,
      poll: { initialMs: 200, growth: 1.5, capMs: 500 },
      // W = 8 s, M = 1 s: batches are trusted for the first 5.5 s, later retries go synchronously.
      sla: { deadlineMs: Date.now() + 14_500, windowMs: 8_000, marginMs: 1_000, syncRequestMs: 100 },
    })));
    outDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-report-out-'));
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test('finalize writes report.html next to the results, and downloading the results copies it', { skip }, async () => {
    assert.ok(await stack.store.exists(jobKeys.output(workflowId, 'report.html')));
    const written = await downloadResults(stack.store, workflowId, outDir);
    assert.ok(written.includes(path.join(outDir, 'report.html')), written.join(', '));
    // The worker read the job's options from its start event, and knows where the Web UI is.
    const html = await readFile(path.join(outDir, 'report.html'), 'utf8');
    assert.match(html, /<table id="options-table">.*<th>batchSize<\/th><td>50<\/td>/s);
    assert.ok(html.includes(`href="${uiLink(WEB_UI, stack.env.namespace ?? 'default', workflowId)}"`));
  });

  test(
    'sluice report JOB --out DIR writes the page; an unknown job is refused with exit code 2',
    { skip },
    async (t) => {
      const cliOut = path.join(outDir, 'cli');
      assert.deepEqual(await sluiceReport(t, workflowId, '--out', cliOut), {
        code: 0,
        printed: [path.join(cliOut, 'report.html')],
      });
      // The page finalize wrote (its outcomes folded as results.jsonl was written) is the page drawn from results.jsonl
      // (apart from when it was written, and the blank lines the store's copy leaves out).
      const written = (file: string) =>
        readFile(file, 'utf8').then((html) => html.replace(/report written [^<]*/, '').replace(/\n+/g, '\n'));
      assert.equal(await written(path.join(cliOut, 'report.html')), await written(path.join(outDir, 'report.html')));
      const unknown = await sluiceReport(t, 'no-such-job');
      assert.equal(unknown.code, 2);
      assert.match(
        unknown.printed[0]!,
        /jobs\/no-such-job\/output\/summary\.json is not in the store: no-such-job is not a finished job/,
      );
    },
  );

  test('the page holds no prompt and no answer text', { skip }, async () => {
    const html = await readFile(path.join(outDir, 'cli', 'report.html'), 'utf8');
    assert.ok(!html.includes(PROMPT));
    const results = await readJsonl<OutcomeLine>(path.join(outDir, 'results.jsonl'));
    const answer = (results.find((r) => r.status === 'succeeded')!.message as { content: { text: string }[] })
      .content[0]!.text;
    assert.ok(answer.length > 20 && !html.includes(answer), 'an answer is on the page');
    assert.ok(!html.includes('too large for this model'), 'error messages stay out: only types are shown');
  });

  test(
    'opens in Chromium with no network, draws every chart, and shows the numbers of summary.json',
    { skip },
    async () => {
      const page = await openReport(path.join(outDir, 'cli', 'report.html'));
      await checkSummaryFigures(page, summary);
      await checkCharts(page, workflowId, summary, true);
      // The failures table lists each error type of results.jsonl with its count and first custom_ids.
      const results = await readJsonl<OutcomeLine>(path.join(outDir, 'results.jsonl'));
      const byType = new Map<string, string[]>();
      for (const r of results.filter((x) => x.status !== 'succeeded')) {
        const type = r.error?.type ?? r.status;
        byType.set(type, [...(byType.get(type) ?? []), r.custom_id]);
      }
      const rows = (await page.locator('#failure-table tbody tr').allInnerTexts()).map((t) =>
        t.split('\t').map((c) => c.trim()),
      );
      assert.deepEqual(
        rows.map(([type, , n, examples]) => [type, Number(n), examples]).sort(),
        [...byType].map(([type, ids]) => [type, ids.length, ids.slice(0, 5).join(' ')]).sort(),
      );
      // The refused requests (batch answers only) and the retried ones went as planned unless the job ran late.
      if (summary.byMode.sync === 0) assert.equal(byType.get('invalid_request_error')?.length, 5);
      assert.ok(summary.byMode.sync > 0 || summary.attempts['3']! > 0, JSON.stringify(summary.attempts));
      assert.equal(
        await page.locator('#web-ui-link').getAttribute('href'),
        uiLink(WEB_UI, stack.env.namespace ?? 'default', workflowId),
      );
      assert.match(await page.locator('#options-table').innerText(), /maxAttempts\s+3/);
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    },
  );

  test(
    'sluice report of the demo job (examples/demo.jsonl, as npm start runs it) draws every chart',
    { skip },
    async (t) => {
      const demo = await runJob(DEMO_INPUT, 'demo', () => ({ poll: { initialMs: 200, growth: 1.5, capMs: 500 } }), {
        model: 'claude-haiku-4-5',
        max_tokens: 256,
      });
      assert.equal(demo.summary.requests, 1_000);
      const cliOut = path.join(outDir, 'demo');
      assert.equal((await sluiceReport(t, demo.workflowId, '--out', cliOut)).code, 0);
      const page = await openReport(path.join(cliOut, 'report.html'));
      await checkSummaryFigures(page, demo.summary);
      await checkCharts(page, demo.workflowId, demo.summary, false);
    },
  );

  /** Every cell marked data-summary="a.b" shows summary.a.b: counts with thousands separators, USD with 6 decimals. */
  async function checkSummaryFigures(page: Page, s: ReportSummary) {
    const marked = page.locator('[data-summary]');
    const cells: { field: string; text: string }[] = [];
    for (let i = 0; i < (await marked.count()); i++) {
      cells.push({
        field: (await marked.nth(i).getAttribute('data-summary'))!,
        text: (await marked.nth(i).textContent()) ?? '',
      });
    }
    assert.ok(cells.length >= 18, `${cells.length} figures`);
    for (const { field, text } of cells) {
      const expected = field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], s);
      assert.equal(Number(text.replace(/[$,]/g, '')), expected, `${field} shows ${text}`);
    }
  }

  /** What the charts were given (their ECharts options, read back in the page) equals the job's records. */
  async function checkCharts(page: Page, workflowId: string, summary: ReportSummary, hasDeadline: boolean) {
    type Series = { name: string; data: unknown[]; markLine?: { data: { name: string }[] } };
    const option = (id: string) =>
      page.evaluate((chartId) => {
        const chart = (globalThis as unknown as { sluiceCharts: Record<string, { getOption(): unknown }> })
          .sluiceCharts[chartId]!;
        return JSON.parse(JSON.stringify(chart.getOption())) as { series: Series[]; xAxis: { data?: string[] }[] };
      }, id);
    const value = (d: unknown) => (typeof d === 'object' && d !== null ? (d as { value: unknown }).value : d);
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);

    // Timeline: one bar per submission with a batch and per synchronous sub-batch; some retried or sync; SLA lines.
    const submissions = await Promise.all(
      (await stack.store.list(jobKeys.submissionsOf(workflowId))).map((k) => stack.store.readJson<SubmissionFacts>(k)),
    );
    const syncTimings = await Promise.all(
      (await stack.store.list(jobKeys.syncTimingsOf(workflowId))).map((k) => stack.store.readJson<SyncTiming>(k)),
    );
    const timeline = await option('timeline');
    const bars = Object.fromEntries(timeline.series.map((s) => [s.name, s.data.length]));
    const batches = submissions.filter((s) => s?.batchId).length;
    assert.equal(
      Object.values(bars).reduce((a, b) => a + b, 0),
      batches + syncTimings.length,
      JSON.stringify(bars),
    );
    assert.equal(
      bars['batch, retries']! > 0,
      submissions.some((s) => s?.shardKey.startsWith('r')),
      JSON.stringify(bars),
    );
    assert.equal(bars['synchronous'], syncTimings.length);
    assert.equal(summary.byMode.sync > 0, syncTimings.length > 0);
    if (summary.attempts['2'] !== undefined || summary.attempts['3'] !== undefined) {
      assert.ok(
        bars['batch, retries']! + bars['synchronous'] > 0,
        `retries or fallbacks are drawn: ${JSON.stringify(bars)}`,
      );
    }
    // The deadline and the latest batch submission as lines, when the job has a deadline.
    assert.deepEqual(
      timeline.series[0]!.markLine!.data.map((m) => m.name),
      hasDeadline ? ['latest batch submission', 'deadline'] : [],
    );
    const timelineText = (await page.locator('#chart-timeline svg').textContent())!;
    assert.equal(/deadline/.test(timelineText) && /latest batch submission/.test(timelineText), hasDeadline);

    assert.match(timelineText, new RegExp(`Sub-batches: ${batches + syncTimings.length},`));

    // Latency: the histogram counts the batches that ended on their own; p50/p90/p99 drawn as labelled lines.
    const latency = await option('latency');
    const binned = latency.series[0]!.data.reduce<number>((a, d) => a + (value(d) as number[])[2]!, 0);
    const endedOnTheirOwn = timeline.series
      .filter((s) => s.name.startsWith('batch,'))
      .reduce((a, s) => a + s.data.length, 0);
    assert.equal(binned, endedOnTheirOwn);
    const latencyText = (await page.locator('#chart-latency svg').textContent())!;
    assert.match(latencyText, new RegExp(`Batch latency: ${binned} batches`));
    if (binned > 0) assert.match(latencyText, /p50 .*p90 .*p99 /s);

    // Done over time ends at every request that got an answer.
    const done = await option('done');
    const last = done.series[0]!.data.at(-1) as [number, number];
    assert.equal(last[1], summary.outcomes.succeeded + summary.outcomes.failed);
    assert.match(
      (await page.locator('#chart-done svg').textContent())!,
      new RegExp(`of ${summary.requests.toLocaleString('en-US')}`),
    );

    // Cost: the bars at the prices paid add up to the cost, those at synchronous prices to what sync would cost.
    const cost = await option('cost');
    const labels = cost.xAxis[0]!.data!;
    let paid = 0;
    let syncEq = 0;
    for (const s of cost.series) {
      s.data.forEach((d, i) =>
        labels[i]!.endsWith('at synchronous prices') ? (syncEq += value(d) as number) : (paid += value(d) as number),
      );
    }
    close(paid, summary.costUsd, 'cost');
    close(syncEq, summary.syncEquivalentUsd, 'synchronous equivalent');
    assert.match(
      (await page.locator('#chart-cost svg').textContent())!,
      new RegExp(`\\$${summary.costUsd.toFixed(6).replace('.', '\\.')}`),
    );

    // Failures: every request that did not succeed, by type.
    const failures = await option('failures');
    const unsuccessful = summary.requests - summary.outcomes.succeeded;
    assert.equal(
      failures.series[0]!.data.reduce<number>((a, d) => a + (value(d) as number), 0),
      unsuccessful,
    );
    assert.match(
      (await page.locator('#chart-failures svg').textContent())!,
      unsuccessful ? new RegExp(`by error type: ${unsuccessful}`) : /No failures/,
    );

    // Attempts: requests that took k attempts equal summary.attempts[k].
    const attempts = await option('attempts');
    const categories = attempts.xAxis[0]!.data!;
    const took = attempts.series.filter((s) => s.name.startsWith('took this many'));
    for (const [k, n] of Object.entries(summary.attempts)) {
      const i = categories.indexOf(`attempt ${k}`);
      assert.equal(
        took.reduce((a, s) => a + (value(s.data[i]) as number), 0),
        n,
        `attempt ${k}`,
      );
    }
  }
});
