// Every alert in deploy/prometheus/alerts.yml can fire from what real jobs emit: jobs run on the dev server against
// the emulator, on workers whose Sluice metrics go to a registry this test reads (sampled while the jobs run), with a
// deterministic fault aimed at each rule's bad condition. Each rule's expression is evaluated on those samples with
// the thresholds read from the file; a clean job is shown not to fire the same rules. (`for:` is how long Prometheus
// waits with the condition true; the timing of the rules is what alerts.test.yml checks with promtool.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { parse } from 'yaml';
import { cancelJob, jobProgress, startJob, waitForJob } from '../src/client/jobs';
import type { JobSummary } from '../src/contracts/activities';
import { SLUICE_METRICS } from '../src/metrics';
import { metricRegistry, type MetricRegistry, type Sample } from './helpers/metric-registry';
import { metricNamesIn } from './helpers/promql';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';

interface Rule {
  alert: string;
  expr: string;
}
const rules: Rule[] = (
  parse(readFileSync(path.join(__dirname, '..', 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const exprOf = (alert: string) => rules.find((r) => r.alert === alert)?.expr ?? assert.fail(`${alert} is in alerts.yml`);
/** A number of the expression, by the text before it (a rule's threshold: change it in the file, the test follows). */
const threshold = (alert: string, before: RegExp): number => {
  const m = new RegExp(`${before.source}\\s*([0-9.]+)`).exec(exprOf(alert));
  return m ? Number(m[1]) : assert.fail(`${alert}: no ${before.source} threshold in ${exprOf(alert)}`);
};

const sumOf = (samples: Sample[], name: string, match: (labels: Record<string, string>) => boolean = () => true) =>
  samples.filter((s) => s.name === name && match(s.labels)).reduce((n, s) => n + s.value, 0);

/** The registry's samples, every 100 ms until stopped: what a scrape would have seen over a job's run. */
function sampler(registry: MetricRegistry) {
  const history: Sample[][] = [registry.samples()];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await sleep(100);
      history.push(registry.samples());
    }
  })();
  return {
    history,
    async stop() {
      stopped = true;
      await loop;
      history.push(registry.samples());
      return history;
    },
  };
}

const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 32 };
const POLL = { initialMs: 200, growth: 1.5, capMs: 500 };

interface Lane {
  stack: TestStack;
  registry: MetricRegistry;
  worker: Worker;
  running: Promise<void>;
}
async function lane(emulator: Parameters<typeof startStack>[0]): Promise<Lane> {
  const stack = await startStack(emulator);
  const registry = metricRegistry();
  const worker = await stack.startWorker({ metricMeter: registry.meter });
  return { stack, registry, worker, running: worker.run() };
}

async function runJob(l: Lane, file: string, options: Record<string, unknown>, defaults: Record<string, unknown> = DEFAULTS) {
  const s = sampler(l.registry);
  const { workflowId } = await startJob({ client: l.stack.env.client, store: l.stack.store, taskQueue: l.stack.taskQueue, file, defaults, options });
  const summary: JobSummary = await waitForJob(l.stack.env.client, workflowId).finally(() => s.stop());
  return { summary, history: s.history, workflowId };
}

/** sum(increase(x[w])) over a window that holds the whole run: the last value minus the first. */
const increase = (history: Sample[][], name: string, match?: (l: Record<string, string>) => boolean) =>
  sumOf(history.at(-1)!, name, match) - sumOf(history[0]!, name, match);

/** The series each firing proof below reads (checked against each rule's expression). */
const READS: Record<string, string[]> = {
  SluiceRequestErrorRateHigh: [SLUICE_METRICS.requests.name],
  SluiceCostPerRequestUp: [`${SLUICE_METRICS.batchCostUsd.name}_sum`, SLUICE_METRICS.requests.name],
  SluiceSlaAtRisk: [SLUICE_METRICS.slaAtRiskJobs.name],
  SluiceQueueDepthFarAboveNormal: [SLUICE_METRICS.batchesInFlight.name],
};

describe('each alert rule fires from the metrics of a real run', () => {
  let fast: Lane;
  let slow: Lane;
  before(async () => {
    // Invalid requests come back errored for good; fixed batch times so polls see batches in flight.
    fast = await lane({
      timeScale: 0.001,
      latency: { batch: { kind: 'fixed', ms: 1_500_000 }, spread: 0 },
      faults: { errorCustomIds: { pattern: 'malformed document', in: 'messages', type: 'invalid_request_error' } },
    });
    // Batches that take 10 minutes: they stay in flight as long as the test needs.
    slow = await lane({ timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 600_000_000 }, spread: 0 } });
  });
  after(async () => {
    for (const l of [fast, slow]) {
      if (!l) continue;
      l.worker.shutdown();
      await l.running;
      await l.stack.close();
    }
  });

  test('every rule in alerts.yml has a firing proof here', () => {
    assert.deepEqual(rules.map((r) => r.alert).sort(), Object.keys(READS).sort());
    for (const r of rules) assert.deepEqual(metricNamesIn(r.expr).sort(), [...READS[r.alert]!].sort(), `${r.alert} reads what its proof reads`);
  });

  test('SluiceRequestErrorRateHigh: quiet for a clean job, fires when a sixth of the requests fail', { timeout: 240_000 }, async () => {
    const alert = 'SluiceRequestErrorRateHigh';
    const ratio = threshold(alert, /\)\s*>/);
    const minimum = threshold(alert, />=/);
    const fires = (history: Sample[][]) => {
      const settled = increase(history, SLUICE_METRICS.requests.name);
      const bad = increase(history, SLUICE_METRICS.requests.name, (l) => /^(failed|retried)$/.test(l.outcome ?? ''));
      return { fires: settled >= minimum && bad / settled > ratio, settled, bad };
    };
    const clean = await runJob(fast, await writeJobInput(120), { poll: POLL, batchSize: 60 });
    assert.equal(clean.summary.outcomes.succeeded, 120);
    assert.deepEqual(fires(clean.history), { fires: false, settled: 120, bad: 0 });

    const file = await writeJobInput(120, { prompt: (i) => (i % 6 === 0 ? `Summarise malformed document ${i}.` : `Summarise document ${i}.`) });
    const faulty = await runJob(fast, file, { poll: POLL, batchSize: 60 });
    assert.equal(faulty.summary.outcomes.failed, 20);
    assert.deepEqual(fires(faulty.history), { fires: true, settled: 120, bad: 20 });
  });

  test('SluiceCostPerRequestUp: fires when this week\'s requests cost more than 1.2x last week\'s', { timeout: 240_000 }, async () => {
    const alert = 'SluiceCostPerRequestUp';
    const factor = threshold(alert, />/);
    const perRequest = (history: Sample[][]) =>
      increase(history, `${SLUICE_METRICS.batchCostUsd.name}_sum`) /
      increase(history, SLUICE_METRICS.requests.name, (l) => l.outcome === 'succeeded');
    // "Last week": the cheap model; "this week": the job defaults switched to a pricier one (the rule's first cause).
    const lastWeek = await runJob(fast, await writeJobInput(60), { poll: POLL });
    const sameAgain = await runJob(fast, await writeJobInput(60), { poll: POLL });
    const thisWeek = await runJob(fast, await writeJobInput(60), { poll: POLL }, { ...DEFAULTS, model: 'claude-opus-4-5' });
    const [before, same, now] = [perRequest(lastWeek.history), perRequest(sameAgain.history), perRequest(thisWeek.history)];
    assert.ok(before > 0 && Number.isFinite(now), `cost per request ${before} then ${now}`);
    assert.equal(same > factor * before, false, 'the same traffic again does not fire');
    assert.ok(now > factor * before, `fires: ${now} > ${factor} x ${before}`);
  });

  test('SluiceSlaAtRisk: fires while a job past its latest batch submission still has batches out, quiet after', { timeout: 240_000 }, async () => {
    const alert = 'SluiceSlaAtRisk';
    const above = threshold(alert, /\)\s*>/);
    const atRisk = (samples: Sample[]) => sumOf(samples, SLUICE_METRICS.slaAtRiskJobs.name);
    // W = 4 s, M = 1 s: the batch is trusted at submission (deadline 7 s away) and the job is at risk 2 s later,
    // while the batch (10 minutes) is still out; the job then cancels it and finishes the requests synchronously.
    const sla = { windowMs: 4_000, marginMs: 1_000, syncRequestMs: 100, deadlineMs: Date.now() + 7_000 };
    const { summary, history } = await runJob(slow, await writeJobInput(20), { poll: POLL, sla });
    assert.equal(summary.outcomes.succeeded, 20);
    assert.equal(atRisk(history[0]!) > above, false, 'quiet before the job');
    assert.ok(history.some((samples) => atRisk(samples) > above), 'fires while the job is at risk');
    assert.equal(atRisk(history.at(-1)!), 0, 'quiet once the job ended');
  });

  test('SluiceQueueDepthFarAboveNormal: fires when a quiet week is followed by over a hundred batches in flight', { timeout: 240_000 }, async () => {
    const alert = 'SluiceQueueDepthFarAboveNormal';
    const factor = threshold(alert, /sum\(sluice_batches_in_flight\)\s*>/);
    const floor = threshold(alert, /and sum\(sluice_batches_in_flight\)\s*>/);
    const inFlight = (samples: Sample[]) => sumOf(samples, SLUICE_METRICS.batchesInFlight.name);
    // avg_over_time(...[7d:10m]): 1,008 steps; the week before this run at what was scraped before it.
    const weekSteps = 7 * 24 * 6;
    const fires = (baseline: number, now: number) => now > factor * ((baseline * (weekSteps - 1) + now) / weekSteps) && now > floor;

    const s = sampler(slow.registry);
    const { workflowId } = await startJob({
      client: slow.stack.env.client,
      store: slow.stack.store,
      taskQueue: slow.stack.taskQueue,
      file: await writeJobInput(floor + 10),
      defaults: DEFAULTS,
      options: { poll: POLL, batchSize: 1 },
    });
    const client = slow.stack.env.client;
    try {
      for (let p = await jobProgress(client, workflowId); p.batches.inFlight < floor + 10; p = await jobProgress(client, workflowId)) {
        await sleep(200);
      }
      // The gauge follows at the job's next poll.
      while (inFlight(s.history.at(-1)!) <= floor) await sleep(100);
    } finally {
      await cancelJob(client, workflowId);
      await waitForJob(client, workflowId).catch(() => undefined);
      await s.stop();
    }
    const baseline = inFlight(s.history[0]!);
    const peak = Math.max(...s.history.map(inFlight));
    assert.equal(fires(baseline, floor / 2), false, 'half the floor does not fire');
    assert.ok(fires(baseline, peak), `fires: ${peak} batches in flight after a week at ${baseline}`);
  });
});
