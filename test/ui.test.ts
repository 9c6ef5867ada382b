/**
 * The Temporal Web UI shows a Sluice job the way the README says: its summary and details on the workflow's page.
 * A dev server with its UI (started here, on free ports), a worker and the emulator in this process, one small job
 * run to completion, then headless Chromium through playwright-core. The screenshot is the README's
 * docs/web-ui-job.png.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { chromium, type Browser } from 'playwright-core';
import { startJob, waitForJob } from '../src/client/jobs';
import { freePort, startDevServer, type DevServer } from '../src/dev/dev-server';
import { requireTemporalCliPath } from '../src/dev/temporal-cli';
import { startEmulator, type EmulatorHandle } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';
import { createSluiceWorker } from '../src/worker';
import { FAST_EMULATOR, writeJobInput } from './helpers/stack';

const CHROMIUM = '/usr/bin/chromium';
// The README's screenshot is refreshed on request (SLUICE_UPDATE_SCREENSHOT=1), so a test run leaves the tree clean.
const SCREENSHOT = process.env.SLUICE_UPDATE_SCREENSHOT
  ? path.resolve(__dirname, '..', 'docs', 'web-ui-job.png')
  : path.join(os.tmpdir(), `sluice-web-ui-${process.pid}.png`);
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why the test cannot run here, or undefined. In CI (CI=true), which installs Chromium first, it always runs. */
function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `${CHROMIUM} is absent: install it with \`apt-get install -y chromium\` (.ci/run does)`;
  if (/^(1|true|yes)$/i.test(process.env.CI ?? '')) throw new Error(`The Web UI test needs Chromium, and ${why}.`);
  return why;
}

describe('the Web UI', () => {
  const skip = chromiumMissing();
  let server: DevServer;
  let emulator: EmulatorHandle;
  let connection: Connection;
  let browser: Browser | undefined;
  before(async () => {
    if (skip) return;
    const [port, uiPort] = [await freePort(), await freePort()];
    server = await startDevServer({ binary: await requireTemporalCliPath(), port, uiPort });
    emulator = await startEmulator(FAST_EMULATOR);
    connection = await Connection.connect({ address: server.address });
  });
  after(async () => {
    await browser?.close();
    await connection?.close();
    await emulator?.close();
    await server?.stop();
  });

  /**
   * Web UI 2.42 shows the static summary and details, and the current details, under the workflow's
   * "User Metadata" tab (not on the default History tab): open the page, then that tab.
   */
  async function lookAtThePage(workflowId: string) {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.uiUrl!}/namespaces/${server.namespace}/workflows/${encodeURIComponent(workflowId)}`);
    await page.getByText(workflowId).first().waitFor({ state: 'visible', timeout: 20_000 });
    await page.getByTestId('user-metadata-tab').click();
    for (const heading of ['Summary', 'Details', 'Current Details']) {
      await page.getByRole('heading', { name: heading, exact: true }).waitFor({ state: 'visible', timeout: 15_000 });
    }
    // Each markdown text is rendered in its own iframe (title "output"); quotes come out curly.
    const shown = async (text: RegExp | string) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const frames = page.locator('iframe[title="output"]');
        for (let i = 0; i < (await frames.count()); i++) {
          if (await frames.nth(i).contentFrame().getByText(text).first().isVisible()) return;
        }
        if (Date.now() > deadline) throw new Error(`The Web UI does not show ${String(text)}`);
        await page.waitForTimeout(250);
      }
    };
    await shown(/^Sluice job .support-tickets.: 250 requests in sub-batches of 100$/); // static summary
    await shown(/at most 3 per request/); // static details
    await shown(/250 \/ 250 \(250 ok, 0 failed\)/); // current details, answered by the worker
    await shown('nothing: the job is over');
    await page.screenshot({ path: SCREENSHOT });
  }

  test('shows a finished job’s summary and details on its page', { skip }, async () => {
    const client = new Client({ connection, namespace: server.namespace });
    const storeDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-ui-store-'));
    const store = new LocalDirectoryStore(storeDir);
    const workerConnection = await NativeConnection.connect({ address: server.address });
    try {
      const worker = await createSluiceWorker({
        connection: workerConnection,
        namespace: server.namespace,
        taskQueue: 'sluice-ui',
        apiKey: emulator.apiKey,
        baseURL: emulator.url,
        storeDir,
      });
      const file = await writeJobInput(250);
      const { workflowId } = await startJob({
        client,
        store,
        taskQueue: 'sluice-ui',
        file,
        name: 'support-tickets',
        defaults: { model: 'claude-haiku-4-5', max_tokens: 256 },
        options: { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 } },
      });
      // The worker keeps running while the page is open: the UI asks it (a query) for the current details.
      await worker.runUntil(async () => {
        const summary = await waitForJob(client, workflowId);
        assert.equal(summary.outcomes.succeeded, 250);
        await lookAtThePage(workflowId);
      });
    } finally {
      await workerConnection.close();
    }
  });
});

