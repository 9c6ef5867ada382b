// A real worker process (src/worker.ts, as `sluice worker` runs it) with SLUICE_METRICS_ADDRESS, running a job on the
// dev server against the emulator: its Prometheus endpoint carries Temporal's worker metrics and Sluice's own,
// with the values the job implies. (The worker is a process of its own because Runtime.install, which sets up
// the exporter, can run once per process.)
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startJob, waitForJob } from '../src/client/jobs';
import { REQUEST_OUTCOMES, SLUICE_METRICS } from '../src/metrics';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';
import { pollerIdOf, pollerView } from './helpers/poller';
import { workerEnv } from './helpers/worker-processes';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format → samples (comments skipped). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

describe('metrics of a worker process', () => {
  let stack: TestStack;
  let worker: ChildProcess | undefined;
  let output = '';
  let metricsUrl: string;

  before(async () => {
    // Batches take about 2 s (real), so polls see them in flight.
    stack = await startStack({ timeScale: 0.001, seed: 3, latency: { batch: { kind: 'fixed', ms: 2_000_000 } } });
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const env: NodeJS.ProcessEnv = {
      ...workerEnv(stack),
      SLUICE_METRICS_ADDRESS: `127.0.0.1:${port}`,
      SLUICE_LOG_LEVEL: 'warn',
    };
    for (const name of ['SLUICE_STORE', 'SLUICE_CODEC_KEYS', 'SLUICE_WORKFLOW_BUNDLE']) delete env[name];
    worker = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'src', 'worker.ts')], {
      cwd: path.join(__dirname, '..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    worker.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    const deadline = Date.now() + 60_000;
    while (!output.includes('Sluice worker on')) {
      if (worker.exitCode !== null) throw new Error(`the worker exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the worker did not start:\n${output}`);
      await sleep(100);
    }
  });
  after(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGKILL');
      await once(worker, 'exit');
    }
    await stack.close();
  });

  const scrape = async () => {
    const res = await fetch(metricsUrl);
    assert.equal(res.status, 200);
    return parseMetrics(await res.text());
  };

  test('Sluice series are there from the start, at zero, labelled like Temporal\'s', async () => {
    assert.match(output, new RegExp(`metrics: ${metricsUrl.replace(/[/.]/g, '\\$&')}`));
    const samples = await scrape();
    const labels = { namespace: 'default', task_queue: stack.taskQueue };
    for (const outcome of REQUEST_OUTCOMES) {
      const s = samples.find((x) => x.name === SLUICE_METRICS.requests.name && x.labels.outcome === outcome);
      assert.deepEqual(s?.labels, { ...labels, outcome }, `${outcome}`);
      assert.equal(s.value, 0);
    }
    for (const m of [
      SLUICE_METRICS.batchesCreated,
      SLUICE_METRICS.pollCalls,
      SLUICE_METRICS.batchesInFlight,
      SLUICE_METRICS.slaAtRiskJobs,
    ]) {
      const s = samples.find((x) => x.name === m.name);
      assert.deepEqual(s?.labels, labels, m.name);
      assert.equal(s.value, 0, m.name);
    }
  });

  test('a job of 250 requests shows up in the counters and gauges', { timeout: 120_000 }, async () => {
    const file = await writeJobInput(250);
    const client = stack.env.client;
    const { workflowId } = await startJob({
      client,
      store: stack.store,
      taskQueue: stack.taskQueue,
      file,
      defaults: { model: 'claude-haiku-4-5', max_tokens: 64 },
      options: { poll: { initialMs: 200, growth: 1.5, capMs: 1_000 }, batchSize: 100 },
    });
    // Sample the in-flight gauge while the job runs.
    let maxInFlight = 0;
    let done = false;
    const sampling = (async () => {
      while (!done) {
        maxInFlight = Math.max(maxInFlight, sum(await scrape(), SLUICE_METRICS.batchesInFlight.name));
        await sleep(100);
      }
    })();
    const summary = await waitForJob(client, workflowId).finally(() => (done = true));
    await sampling;
    assert.equal(summary.outcomes.succeeded, 250);

    const samples = await scrape();
    const requests = (outcome: string) => sum(samples, SLUICE_METRICS.requests.name, { outcome });
    assert.equal(requests('succeeded'), 250, 'sluice_requests_total{outcome="succeeded"} is the job size');
    assert.equal(requests('failed') + requests('retried') + requests('canceled'), 0);
    assert.equal(sum(samples, SLUICE_METRICS.batchesCreated.name), 3);
    assert.equal(sum(samples, SLUICE_METRICS.batchesCreated.name), stack.emulator.stats().calls.create);
    // The account's poller polls for the job (its own calls), the job alone only when the poller is silent.
    const pollerCalls = (await pollerView(client, pollerIdOf(stack.emulator))).stats.calls;
    assert.ok(pollerCalls > 0, 'the account poller polled');
    assert.equal(sum(samples, SLUICE_METRICS.pollCalls.name), pollerCalls + (summary.apiCalls.poll ?? 0), 'poll calls, as the poller and the job counted them');
    assert.equal(sum(samples, `${SLUICE_METRICS.batchCostUsd.name}_count`), 3, 'one cost observation per batch');
    const costUsd = sum(samples, `${SLUICE_METRICS.batchCostUsd.name}_sum`);
    assert.ok(summary.costUsd > 0 && Math.abs(costUsd - summary.costUsd) < 1e-5, `cost ${costUsd} vs ${summary.costUsd}`);
    assert.equal(sum(samples, `${SLUICE_METRICS.batchCostUsd.name}_bucket`, { le: '+Inf' }), 3);
    assert.ok(maxInFlight >= 1 && maxInFlight <= 3, `batches in flight seen during the job: ${maxInFlight}`);
    assert.equal(sum(samples, SLUICE_METRICS.batchesInFlight.name), 0, 'nothing in flight after the job');

    // Temporal's own worker metrics on the same endpoint.
    const names = new Set(samples.map((s) => s.name));
    for (const name of [
      'temporal_workflow_completed',
      'temporal_activity_execution_latency_bucket',
      'temporal_worker_task_slots_available',
      'temporal_request',
    ]) {
      assert.ok(names.has(name), `${name} is exported (have: ${[...names].filter((n) => n.startsWith('temporal_')).join(', ')})`);
    }
    assert.ok(
      samples.some((s) => s.name === 'temporal_workflow_completed' && s.labels.task_queue === stack.taskQueue && s.value >= 1),
    );
  });

  test('the worker stops on SIGTERM', { timeout: 30_000 }, async () => {
    worker!.kill('SIGTERM');
    const [code] = (await once(worker!, 'exit')) as [number | null];
    assert.equal(code, 0, output);
  });
});
