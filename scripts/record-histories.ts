/**
 * Records the histories that test/replay.test.ts replays: realistic runs of every workflow type on the real
 * dev server and the emulator (few requests, compressed time), each saved with fetchHistory() as JSON
 * (test/helpers/histories.ts), scrubbed of this machine's paths and host name.
 *
 *   npm run record-histories                  # every scenario
 *   npm run record-histories -- job-retries   # only the scenarios named
 *
 * Record new histories from the code as it is BEFORE a workflow change (see docs/versioning.md), never to make
 * a failing replay pass.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, type Worker } from '@temporalio/worker';
import { createIntake, enqueue, flushIntake, intakeStatus, type IntakeRequest } from '../src/client/intake';
import { cancelJob, jobProgress, setJobBudget, startJob, waitForJob } from '../src/client/jobs';
import { readTemplateFile } from '../src/client/template-file';
import { templateLines } from '../src/client/template-input';
import { worstCaseUsd } from '../src/domain/budget';
import { inputTokensUpperBound } from '../src/domain/token-count';
import { createSchedule, deleteSchedule, describeSchedule, triggerSchedule } from '../src/client/schedules';
import type { JobOptionsInput } from '../src/domain/job';
import type { SlaPolicyInput } from '../src/domain/sla-route';
import type { EmulatorOptions } from '../src/emulator';
import { intakeWorkflowId } from '../src/workflows';
import { accountFingerprint } from '../src/activities/account-key';
import { accountSchedulerWorkflowId } from '../src/contracts/workflow-ids';
import { intakeKeys } from '../src/contracts/store-keys';
import { SWEEP_LISTS_PER_CALL } from '../src/contracts/activities';
import {
  HISTORIES_DIR,
  historyAsJson,
  RECORDED_PROMPT,
  scrubHistory,
  type HistoryJson,
} from '../test/helpers/histories';
import { seedSweepBacklog } from '../test/helpers/intake-backlog';
import { createIntakeWorker } from '../src/intake-worker';
import { sluicePluginFor, type SluiceWorkerOptions } from '../src/worker';
import { pollerIdOf } from '../test/helpers/poller';
import { startStack, type TestStack } from '../test/helpers/stack';
import { pollerQuery } from '../src/contracts/messages';
import { testEnv } from '../test/helpers/temporal';

const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 16 };
const FAST_POLL = { poll: { initialMs: 150, growth: 1.5, capMs: 500 } };
/** Every batch takes `realMs` of real time. */
const batchesTaking = (realMs: number, extra: EmulatorOptions = {}): EmulatorOptions => ({
  timeScale: 0.001,
  latency: { batch: { kind: 'fixed', ms: realMs * 1_000 }, spread: 0 },
  ...extra,
});
/** W = 4 s, M = 1 s: a batch is trusted until 5 s before the deadline. */
const SLA = { windowMs: 4_000, marginMs: 1_000, syncRequestMs: 100 } satisfies SlaPolicyInput;

interface Recorded {
  /** The file name in test/histories/, without .json. */
  name: string;
  handle: WorkflowHandle;
}

interface Ctx {
  stack: TestStack;
  client: Client;
  worker: Worker;
}

type Scenario = (c: Ctx) => Promise<Recorded[]>;

const prompt = (i: number) => `${RECORDED_PROMPT} number ${i}: summarise the attached report.`;

async function inputFile(count: number, customId: (i: number) => string = (i) => `item-${i}`): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-history-input-'));
  const file = path.join(dir, 'input.jsonl');
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ custom_id: customId(i), params: { messages: [{ role: 'user', content: prompt(i) }] } }),
  );
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

async function runJob(
  c: Ctx,
  name: string,
  file: string,
  options: JobOptionsInput,
  whileRunning?: (id: string) => Promise<void>,
) {
  const { workflowId, handle } = await startJob({
    client: c.client,
    store: c.stack.store,
    taskQueue: c.stack.taskQueue,
    file,
    name,
    defaults: DEFAULTS,
    options,
  });
  await whileRunning?.(workflowId);
  await waitForJob(c.client, workflowId);
  return { workflowId, handle };
}

/** A job of 20 requests in sub-batches of 4 past the lowest history limit: it must continue as new. */
async function runPastHistoryLimit(c: Ctx, name: string) {
  let firstRunId = '';
  const { handle } = await runJob(
    c,
    name,
    await inputFile(20),
    { poll: { initialMs: 100, growth: 1, capMs: 100 }, batchSize: 4, maxHistoryEvents: 500 },
    async (id) => {
      firstRunId = (await c.client.workflow.getHandle(id).describe()).runId;
    },
  );
  const last = await handle.describe();
  if (last.runId === firstRunId) throw new Error(`the job did not continue as new (${last.historyLength} events)`);
  return { handle, firstRunId, last };
}

/** An intake small enough to cut and continue as new within a recording: sub-batches of 5, 500 events a run. */
function smallIntake(c: Ctx, name: string) {
  return {
    client: c.client,
    store: c.stack.store,
    taskQueue: c.stack.taskQueue,
    intake: name,
    options: {
      batchSize: 5,
      cutLeadMs: 500,
      maxHistoryEvents: 500,
      tiers: { bulk: { slaMs: 120_000, windowMs: 60_000, marginMs: 10_000 } },
      job: { poll: { initialMs: 150, growth: 1.3, capMs: 400 } },
    },
    defaults: DEFAULTS,
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Three senders of ten bulk requests each, a flush every hundred, into a small intake until it continues as new;
 * returns the handle of its first run. Recording the handover under steady enqueues.
 */
async function sendUntilContinuedAsNew(c: Ctx, name: string, idPrefix: string) {
  const target = smallIntake(c, name);
  await createIntake(target);
  const handle = c.client.workflow.getHandle(intakeWorkflowId(name));
  const firstRunId = (await handle.describe()).runId;
  const request = (i: number): IntakeRequest => ({
    custom_id: `${idPrefix}-${i}`,
    tier: 'bulk',
    params: { model: DEFAULTS.model, max_tokens: 16, messages: [{ role: 'user', content: prompt(i) }] },
  });
  let i = 0;
  let continued = false;
  const sender = async () => {
    while (!continued) {
      const base = i;
      i += 10;
      await enqueue(target, Array.from({ length: 10 }, (_, k) => request(base + k)));
      if (base % 100 === 0) await flushIntake(c.client, name);
    }
  };
  const senders = [sender(), sender(), sender()];
  await until('the intake to continue as new', async () => (await handle.describe()).runId !== firstRunId, 180_000);
  continued = true;
  await Promise.all(senders);
  return c.client.workflow.getHandle(intakeWorkflowId(name), firstRunId);
}

const scenarios: Record<
  string,
  { emulator: EmulatorOptions; worker?: Parameters<TestStack['startWorker']>[0]; run: Scenario }
> = {
  /** Retryable errors sent again (packed into retry shards), terminal ones not, max attempts reached. */
  'job-retries': {
    emulator: {
      timeScale: 0.001,
      seed: 7,
      latency: { batch: { kind: 'uniform', minMs: 300_000, maxMs: 900_000 } },
      faults: {
        resultErrors: { overloaded_error: 0.2, api_error: 0.1 },
        errorCustomIds: [
          { pattern: '^bad-', type: 'invalid_request_error' },
          { pattern: '^flaky-', type: 'overloaded_error' },
        ],
      },
    },
    run: async (c) => {
      const file = await inputFile(40, (i) => (i % 13 === 0 ? `bad-${i}` : i % 11 === 0 ? `flaky-${i}` : `item-${i}`));
      const { handle } = await runJob(c, 'retries', file, { ...FAST_POLL, batchSize: 10, maxAttempts: 3 });
      return [{ name: 'job-retries', handle }];
    },
  },
  /** --pack 3 over template rows: one pack's answer is one short, so its rows go again alone (the job grows). */
  'job-pack-unusable': {
    emulator: batchesTaking(1_000, { faults: { malformedAnswers: ['row-4 '] } }),
    run: async (c) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-history-rows-'));
      const rowsFile = path.join(dir, 'rows.csv');
      const templateFile = path.join(dir, 'prompt.md');
      const rows = Array.from({ length: 8 }, (_, i) => `r${i},"${prompt(i)}",row-${i} `);
      await writeFile(rowsFile, ['id,text,tag', ...rows].join('\n') + '\n');
      await writeFile(templateFile, 'Summarise each.\n{{#each}}\n{{@n}}. {{text}} ({{tag}})\n{{/each}}\n');
      const { template } = await readTemplateFile(templateFile);
      const { workflowId, handle } = await startJob({
        client: c.client,
        store: c.stack.store,
        taskQueue: c.stack.taskQueue,
        file: rowsFile,
        name: 'pack',
        defaults: DEFAULTS,
        options: FAST_POLL,
        lines: templateLines({ rowsFile, template, pack: 3, maxLineBytes: 1_000_000 }),
      });
      await waitForJob(c.client, workflowId);
      return [{ name: 'job-pack-unusable', handle }];
    },
  },
  /** --cache-prefix: the plan marks two shared system prompts and cuts one group per sub-batch (docs/prompt-cache.md). */
  'job-cache-prefix': {
    emulator: { timeScale: 0.001, seed: 7, latency: { batch: { kind: 'uniform', minMs: 60_000, maxMs: 120_000 } } },
    run: async (c) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-history-input-'));
      const file = path.join(dir, 'input.jsonl');
      const system = (i: number) => `${RECORDED_PROMPT}: house rules for team ${i % 2}. `.repeat(60);
      const lines = Array.from({ length: 12 }, (_, i) =>
        JSON.stringify({ custom_id: `item-${i}`, params: { system: system(i), messages: [{ role: 'user', content: prompt(i) }] } }),
      );
      await writeFile(file, lines.join('\n') + '\n');
      const { handle } = await runJob(c, 'cache-prefix', file, { ...FAST_POLL, batchSize: 4, cachePrefix: { ttl: '1h' } });
      return [{ name: 'job-cache-prefix', handle }];
    },
  },
  /** A canary whose answers all fail the output check (prose where JSON is expected) stops the job after it. */
  'job-canary-stopped': {
    emulator: { timeScale: 0.001, seed: 7, latency: { batch: { kind: 'uniform', minMs: 300_000, maxMs: 900_000 } } },
    run: async (c) => {
      const file = await inputFile(60);
      const { handle } = await runJob(c, 'canary', file, { ...FAST_POLL, batchSize: 20, canary: { requests: 10 }, outputCheck: { expect: 'json' } });
      return [{ name: 'job-canary-stopped', handle }];
    },
  },
  /** A retry that can no longer meet the deadline by batch goes to the synchronous API. */
  'job-sla-retry-sync': {
    emulator: batchesTaking(4_000, { faults: { errorCustomIds: { pattern: '^flaky-', type: 'overloaded_error' } } }),
    run: async (c) => {
      const file = await inputFile(12, (i) => (i % 4 === 0 ? `flaky-${i}` : `ok-${i}`));
      const { handle } = await runJob(c, 'sla-retry', file, {
        ...FAST_POLL,
        sla: { ...SLA, deadlineMs: Date.now() + 9_000 },
      });
      return [{ name: 'job-sla-retry-sync', handle }];
    },
  },
  /** A batch that can no longer meet the deadline is canceled and its requests finished synchronously. */
  'job-sla-straggler': {
    emulator: batchesTaking(30_000),
    run: async (c) => {
      const file = await inputFile(8);
      const { handle } = await runJob(c, 'straggler', file, {
        ...FAST_POLL,
        sla: { ...SLA, syncRequestMs: 500, deadlineMs: Date.now() + 9_000 },
      });
      return [{ name: 'job-sla-straggler', handle }];
    },
  },
  /** Past the latest batch submission without sync fallback: every request is reported sla_missed. */
  'job-sla-missed': {
    emulator: batchesTaking(500),
    run: async (c) => {
      const file = await inputFile(6);
      const { handle } = await runJob(c, 'missed', file, {
        ...FAST_POLL,
        batchSize: 3,
        sla: { ...SLA, deadlineMs: Date.now() + 3_000, syncFallback: false },
      });
      return [{ name: 'job-sla-missed', handle }];
    },
  },
  /** A long job continues as new past maxHistoryEvents: its first run ends with the continue-as-new, the last finishes. */
  'job-continue-as-new': {
    emulator: batchesTaking(45_000),
    run: async (c) => {
      const { handle, firstRunId, last } = await runPastHistoryLimit(c, 'long');
      return [
        { name: 'job-continue-as-new-run1', handle: c.client.workflow.getHandle(handle.workflowId, firstRunId) },
        { name: 'job-continue-as-new-last-run', handle: c.client.workflow.getHandle(handle.workflowId, last.runId) },
      ];
    },
  },
  /**
   * A job that continues as new while it holds room in a small queue (two sub-batches) keeps its seat: its first run
   * ends with the continue-as-new and no leaveQueue before it; the next run refreshes and is granted the rest.
   */
  'job-keeps-seat-continue-as-new': {
    emulator: batchesTaking(15_000),
    worker: { queueCapacity: { maxRequests: 8, maxBatches: 2 }, queueRefresh: { refreshMs: 1_000, missedRefreshes: 3 } },
    run: async (c) => {
      const { handle, firstRunId } = await runPastHistoryLimit(c, 'seated');
      return [{ name: 'job-keeps-seat-run1', handle: c.client.workflow.getHandle(handle.workflowId, firstRunId) }];
    },
  },
  /**
   * A budget of about one sub-batch's worst case: the job holds (reason budget) with nothing in flight once the
   * first sub-batch is spent, and goes on when the setBudget update raises the limit.
   */
  'job-budget-held': {
    emulator: batchesTaking(1_000),
    run: async (c) => {
      const file = await inputFile(30);
      // No token counts are stored here (startJob from code): the plan bounds each prompt at one token per byte.
      const params = { model: DEFAULTS.model, messages: [{ role: 'user', content: prompt(10) }] };
      const perRequest = worstCaseUsd({ model: DEFAULTS.model, inputTokens: inputTokensUpperBound(params), maxTokens: DEFAULTS.max_tokens }, 'batch')!;
      const { handle } = await runJob(c, 'budget', file, { ...FAST_POLL, batchSize: 10, budgetUsd: 10.5 * perRequest }, async (id) => {
        await until('held at the budget with nothing in flight', async () => {
          const p = await jobProgress(c.client, id);
          return p.heldReason === 'budget' && p.batches.inFlight === 0 && p.batches.collected > 0;
        });
        await setJobBudget(c.client, id, 100 * perRequest);
      });
      return [{ name: 'job-budget-held', handle }];
    },
  },
  /** Canceled by signal with batches in flight: they are canceled, waited for, and the rest reported canceled. */
  'job-canceled': {
    emulator: batchesTaking(3_000),
    run: async (c) => {
      const file = await inputFile(30);
      const { handle } = await runJob(
        c,
        'canceled',
        file,
        { ...FAST_POLL, batchSize: 10, maxBatchesInFlight: 2 },
        async (id) => {
          await until('two batches in flight', () => c.stack.emulator.stats().createLog.length === 2);
          await cancelJob(c.client, id);
        },
      );
      return [{ name: 'job-canceled', handle }];
    },
  },
  /**
   * The submit lane (patch overlap-submit-collect): the last create is slow, and the batches created before it are
   * polled and collected while it runs.
   */
  'job-overlap-submit-collect': {
    emulator: batchesTaking(300, { faults: { targeted: [{ endpoint: 'create', calls: [4], action: 'delayBefore', delayMs: 3_000 }] } }),
    run: async (c) => {
      const file = await inputFile(8);
      const { handle } = await runJob(c, 'overlap', file, { ...FAST_POLL, batchSize: 2, activityConcurrency: 2 });
      return [{ name: 'job-overlap-submit-collect', handle }];
    },
  },
  /**
   * Today's job loop with every patch taken (submit lane, account poll, scheduler refresh): the same slow create,
   * the batches learned of from the account's poller while the lane still creates.
   */
  'job-current-loop': {
    emulator: batchesTaking(300, { faults: { targeted: [{ endpoint: 'create', calls: [4], action: 'delayBefore', delayMs: 3_000 }] } }),
    run: async (c) => {
      const file = await inputFile(8);
      const { handle } = await runJob(c, 'current-loop', file, { ...FAST_POLL, batchSize: 2, activityConcurrency: 2 });
      return [{ name: 'job-current-loop', handle }];
    },
  },
  /**
   * The submit lane by callbacks (patch submit-lane-by-callbacks): the job loop of job-current-loop, its creates'
   * answers taken by callbacks; the same slow create, collects while it runs.
   */
  'job-submit-by-callbacks': {
    emulator: batchesTaking(300, { faults: { targeted: [{ endpoint: 'create', calls: [4], action: 'delayBefore', delayMs: 3_000 }] } }),
    run: async (c) => {
      const file = await inputFile(8);
      const { handle } = await runJob(c, 'submit-by-callbacks', file, { ...FAST_POLL, batchSize: 2, activityConcurrency: 2 });
      return [{ name: 'job-submit-by-callbacks', handle }];
    },
  },
  /**
   * The submit lane by callbacks, canceled while creates are in flight: creates 2 and 3 are slow, the cancel comes
   * once the first batch exists and both are running; the one still waiting is dropped, the two running answer and
   * their batches are canceled.
   */
  'job-submit-by-callbacks-canceled': {
    emulator: batchesTaking(3_000, { faults: { targeted: [{ endpoint: 'create', calls: [2, 3], action: 'delayBefore', delayMs: 3_000 }] } }),
    run: async (c) => {
      const file = await inputFile(8);
      const { handle } = await runJob(c, 'submit-by-callbacks-canceled', file, { ...FAST_POLL, batchSize: 2, activityConcurrency: 2 }, async (id) => {
        await until('the first batch made and two creates running', () => {
          const st = c.stack.emulator.stats();
          return st.createLog.length === 1 && st.calls.create >= 3;
        });
        await cancelJob(c.client, id);
      });
      return [{ name: 'job-submit-by-callbacks-canceled', handle }];
    },
  },
  /**
   * The submit lane by callbacks past the history limit while creates still run: the later creates are slow, the
   * polling rounds fill the history meanwhile, and the run continues as new once the lane has drained.
   */
  'job-submit-by-callbacks-continue-as-new': {
    emulator: batchesTaking(45_000, { faults: { targeted: [{ endpoint: 'create', calls: [3, 4, 5], action: 'delayBefore', delayMs: 65_000 }] } }),
    run: async (c) => {
      const { handle, firstRunId } = await runPastHistoryLimit(c, 'callbacks-long');
      return [{ name: 'job-submit-by-callbacks-continue-as-new-run1', handle: c.client.workflow.getHandle(handle.workflowId, firstRunId) }];
    },
  },
  /**
   * Batches that end together, collected in one collectBatches activity (patch collect-together); one of them finds
   * its results not there yet (a 404 on the second download) and is collected again alone with collectBatch.
   */
  'job-collect-together': {
    emulator: batchesTaking(2_000, { faults: { targeted: [{ endpoint: 'results', calls: [2], action: 'error', errorType: 'not_found_error' }] } }),
    run: async (c) => {
      const file = await inputFile(8);
      const { handle } = await runJob(c, 'collect-together', file, { ...FAST_POLL, batchSize: 2 });
      return [{ name: 'job-collect-together', handle }];
    },
  },
  /** The same, by a Temporal cancellation (the Web UI's Cancel): the job handles it as it handles the signal. */
  'job-canceled-by-temporal': {
    emulator: batchesTaking(3_000),
    run: async (c) => {
      const file = await inputFile(30);
      const { handle } = await runJob(
        c,
        'canceled-by-temporal',
        file,
        { ...FAST_POLL, batchSize: 10, maxBatchesInFlight: 2 },
        async (id) => {
          await until('two batches in flight', () => c.stack.emulator.stats().createLog.length === 2);
          await c.client.workflow.getHandle(id).cancel();
        },
      );
      return [{ name: 'job-canceled-by-temporal', handle }];
    },
  },
  /** Two jobs share the batch queue: the urgent one preempts the low one, which cancels young batches for it. */
  'scheduler-preemption': {
    emulator: batchesTaking(2_500),
    worker: { queueCapacity: { maxRequests: 30, maxBatches: 10 } },
    run: async (c) => {
      const lowFile = await inputFile(50, (i) => `low-${i}`);
      const highFile = await inputFile(20, (i) => `high-${i}`);
      const opts = { poll: { initialMs: 150, growth: 1.2, capMs: 300 }, batchSize: 10 };
      const low = await startJob({
        client: c.client,
        store: c.stack.store,
        taskQueue: c.stack.taskQueue,
        file: lowFile,
        name: 'low',
        defaults: DEFAULTS,
        options: { ...opts, priority: 5, preempt: 'cancel' },
      });
      await until('the low job to fill the queue', () => c.stack.emulator.stats().createLog.length === 3);
      const high = await startJob({
        client: c.client,
        store: c.stack.store,
        taskQueue: c.stack.taskQueue,
        file: highFile,
        name: 'high',
        defaults: DEFAULTS,
        options: { ...opts, priority: 1 },
      });
      await Promise.all([waitForJob(c.client, low.workflowId), waitForJob(c.client, high.workflowId)]);
      // The scheduler would idle for 10 minutes before it ends: its history so far is the record.
      const scheduler = c.client.workflow.getHandle(accountSchedulerWorkflowId(accountFingerprint(c.stack.emulator.apiKey)));
      await until('the scheduler to see both jobs leave', async () => {
        const d = await scheduler.describe();
        return d.historyLength > 0 && (await scheduler.query<{ jobs: unknown[] }>('queue')).jobs.length === 0;
      });
      await scheduler.terminate('recorded');
      return [
        { name: 'scheduler-preemption', handle: scheduler },
        { name: 'scheduler-preemption-low-job', handle: low.handle },
        { name: 'scheduler-preemption-high-job', handle: high.handle },
      ];
    },
  },
  /**
   * The scheduler is terminated while a job waits for room: the jobs' refreshes start a new one, which rebuilds
   * before it grants (patch scheduler-refresh); the waiting job then goes on.
   */
  'scheduler-refresh': {
    emulator: batchesTaking(2_500),
    worker: { queueCapacity: { maxRequests: 20, maxBatches: 10 }, queueRefresh: { refreshMs: 1_000, missedRefreshes: 3 } },
    run: async (c) => {
      const opts = { poll: { initialMs: 150, growth: 1.2, capMs: 300 }, batchSize: 20 };
      const scheduler = c.client.workflow.getHandle(accountSchedulerWorkflowId(accountFingerprint(c.stack.emulator.apiKey)));
      const stateOf = async (jobId: string) =>
        (await scheduler.query<{ jobs: { jobId: string; state: string }[] }>('queue').catch(() => ({ jobs: [] }))).jobs.find(
          (j) => j.jobId === jobId,
        )?.state;
      const start = async (name: string) =>
        startJob({
          client: c.client,
          store: c.stack.store,
          taskQueue: c.stack.taskQueue,
          file: await inputFile(20, (i) => `${name}-${i}`),
          name,
          defaults: DEFAULTS,
          options: opts,
        });
      const first = await start('first');
      await until('the first job to hold the queue', async () => (await stateOf(first.workflowId)) === 'holding');
      const second = await start('second');
      await until('the second job to wait for room', async () => (await stateOf(second.workflowId)) === 'waiting');
      await scheduler.terminate('recorded: the scheduler is lost while a job waits');
      await Promise.all([waitForJob(c.client, first.workflowId), waitForJob(c.client, second.workflowId)]);
      await until('the new scheduler to see both jobs leave', async () => {
        const d = await scheduler.describe();
        return d.status.name === 'RUNNING' && (await scheduler.query<{ jobs: unknown[] }>('queue')).jobs.length === 0;
      });
      await scheduler.terminate('recorded');
      return [
        { name: 'scheduler-refresh', handle: scheduler },
        { name: 'scheduler-refresh-waiting-job', handle: second.handle },
        { name: 'scheduler-refresh-holding-job', handle: first.handle },
        ];
      },
    },
    /**
   * One poll per account: two jobs hand their batches to the account's poller, which walks the list for both and
   * tells each which of its batches ended (patched 'account-poll').
   */
  'poller-two-jobs': {
    emulator: batchesTaking(1_500),
    run: async (c) => {
      const opts = { ...FAST_POLL, batchSize: 4 };
      const jobs = await Promise.all(
        [['first', 12], ['second', 8]].map(async ([name, n]) =>
          startJob({ client: c.client, store: c.stack.store, taskQueue: c.stack.taskQueue, file: await inputFile(Number(n), (i) => `${name}-${i}`), name: String(name), defaults: DEFAULTS, options: opts }),
        ),
      );
      await Promise.all(jobs.map((j) => waitForJob(c.client, j.workflowId)));
      // The poller would idle for 10 minutes before it ends: its history so far is the record.
      const poller = c.client.workflow.getHandle(pollerIdOf(c.stack.emulator));
      await until('the poller to see both jobs done', async () => (await poller.query(pollerQuery)).jobs.length === 0);
      await poller.terminate('recorded');
      return [
        { name: 'poller-two-jobs', handle: poller },
        { name: 'poller-two-jobs-job', handle: jobs[0]!.handle },
      ];
    },
  },
  /**
   * The account poll as it runs under load (patches 'poller-records-outside-walk' and 'account-poll-robust'): the
   * walk hands its records to recordEndedBatches, and the jobs keep a silence floor; two jobs, as above.
   */
  'poller-records-outside-walk': {
    emulator: batchesTaking(1_500),
    run: async (c) => {
      const opts = { ...FAST_POLL, batchSize: 4 };
      const jobs = await Promise.all(
        [['first', 12], ['second', 8]].map(async ([name, n]) =>
          startJob({ client: c.client, store: c.stack.store, taskQueue: c.stack.taskQueue, file: await inputFile(Number(n), (i) => `${name}-${i}`), name: String(name), defaults: DEFAULTS, options: opts }),
        ),
      );
      await Promise.all(jobs.map((j) => waitForJob(c.client, j.workflowId)));
      const poller = c.client.workflow.getHandle(pollerIdOf(c.stack.emulator));
      await until('the poller to see both jobs done', async () => (await poller.query(pollerQuery)).jobs.length === 0);
      await poller.terminate('recorded');
      return [
        { name: 'poller-records-outside-walk', handle: poller },
        { name: 'poller-records-outside-walk-job', handle: jobs[0]!.handle },
      ];
    },
  },
  /** An intake cuts sub-batches on size into child jobs and continues as new past maxHistoryEvents. */
  'intake-continue-as-new': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 1_500_000 }, spread: 0 } },
    run: async (c) => {
      const name = 'recorded';
      const target = {
        client: c.client,
        store: c.stack.store,
        taskQueue: c.stack.taskQueue,
        intake: name,
        options: {
          batchSize: 5,
          checkEveryMs: 200,
          cutLeadMs: 500,
          maxHistoryEvents: 500,
          tiers: { standard: { slaMs: 6_000, windowMs: 2_000, marginMs: 1_000 } },
          job: { poll: { initialMs: 150, growth: 1.3, capMs: 400 } },
        },
        defaults: DEFAULTS,
      };
      await createIntake(target);
      const handle = c.client.workflow.getHandle(intakeWorkflowId(name));
      const firstRunId = (await handle.describe()).runId;
      const request = (i: number): IntakeRequest => ({
        custom_id: `q-${i}`,
        tier: 'standard',
        params: { model: DEFAULTS.model, max_tokens: 16, messages: [{ role: 'user', content: prompt(i) }] },
      });
      let i = 0;
      await until(
        'the intake to continue as new',
        async () => {
          if ((await handle.describe()).runId !== firstRunId) return true;
          await enqueue(target, [request(i++)]);
          return false;
        },
        120_000,
      );
      return [
        { name: 'intake-continue-as-new', handle: c.client.workflow.getHandle(intakeWorkflowId(name), firstRunId) },
      ];
    },
  },
  /**
   * Several sub-batches per child job (patched 'intake-cut-many'): a burst of 33 is cut into a job of 20 (the cap;
   * sub-batches of 5), then after its gather window a job of the 10 in whole sub-batches; the 3 left and 1 more go
   * in a flush; every job ends and is counted.
   */
  'intake-cut-many': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 1_500_000 }, spread: 0 } },
    run: async (c) => {
      const name = 'recorded-cut-many';
      const base = smallIntake(c, name);
      const target = { ...base, options: { ...base.options, maxCutRequests: 20, cutGatherMs: 1_000 } };
      await createIntake(target);
      const request = (i: number): IntakeRequest => ({
        custom_id: `m-${i}`,
        tier: 'bulk',
        params: { model: DEFAULTS.model, max_tokens: 16, messages: [{ role: 'user', content: prompt(i) }] },
      });
      await enqueue(target, Array.from({ length: 33 }, (_, i) => request(i)));
      await until('the burst to be cut in whole sub-batches', async () => (await intakeStatus(c.client, name)).counters.cutRequests === 30, 60_000);
      await enqueue(target, [request(100)]);
      await flushIntake(c.client, name);
      await until('every job to be counted', async () => {
        const st = await intakeStatus(c.client, name);
        return st.jobsInFlight === 0 && st.counters.succeeded + st.counters.failed + st.counters.other === 34;
      }, 120_000);
      return [{ name: 'intake-cut-many', handle: c.client.workflow.getHandle(intakeWorkflowId(name)) }];
    },
  },
  /**
   * The store-backed intake: requests admitted by an activity (records and chunks in the store), cuts on size
   * whose jobs signal back, a flush of the rest, and a continue-as-new past maxHistoryEvents.
   */
  'intake-store-continue-as-new': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 1_500_000 }, spread: 0 } },
    run: async (c) => {
      const name = 'recorded-store';
      const target = smallIntake(c, name);
      await createIntake(target);
      const handle = c.client.workflow.getHandle(intakeWorkflowId(name));
      const firstRunId = (await handle.describe()).runId;
      const request = (i: number): IntakeRequest => ({
        custom_id: `q-${i}`,
        tier: 'bulk',
        params: { model: DEFAULTS.model, max_tokens: 16, messages: [{ role: 'user', content: prompt(i) }] },
      });
      let i = 0;
      await until(
        'the intake to continue as new',
        async () => {
          if ((await handle.describe()).runId !== firstRunId) return true;
          await enqueue(target, [request(i++), request(0)]);
          if (i % 7 === 0) await flushIntake(c.client, name);
          return false;
        },
        180_000,
      );
      return [
        { name: 'intake-store-continue-as-new', handle: c.client.workflow.getHandle(intakeWorkflowId(name), firstRunId) },
      ];
    },
  },
  /**
   * The group commit (patched 'intake-admit-grouped') and cuts made at once ('intake-parallel-cuts'): enqueue calls sent
   * four at a time are admitted together by one activity, with duplicates among and across them, cuts whose jobs
   * signal back, flushes, and a continue-as-new.
   */
  'intake-grouped-admission': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 1_500_000 }, spread: 0 } },
    run: async (c) => {
      const name = 'recorded-grouped';
      const target = smallIntake(c, name);
      await createIntake(target);
      const handle = c.client.workflow.getHandle(intakeWorkflowId(name));
      const firstRunId = (await handle.describe()).runId;
      const request = (i: number): IntakeRequest => ({
        custom_id: `q-${i}`,
        tier: 'bulk',
        params: { model: DEFAULTS.model, max_tokens: 16, messages: [{ role: 'user', content: prompt(i) }] },
      });
      let i = 0;
      await until(
        'the intake to continue as new',
        async () => {
          if ((await handle.describe()).runId !== firstRunId) return true;
          const base = i;
          i += 8;
          // Four calls at once, the last two sharing a custom_id, each with one already accepted.
          await Promise.all([
            enqueue(target, [request(base), request(base + 1), request(0)]),
            enqueue(target, [request(base + 2), request(base + 3)]),
            enqueue(target, [request(base + 4), request(base + 5)]),
            enqueue(target, [request(base + 5), request(base + 6)]),
          ]);
          if (i % 24 === 0) await flushIntake(c.client, name);
          return false;
        },
        180_000,
      );
      return [
        { name: 'intake-grouped-admission', handle: c.client.workflow.getHandle(intakeWorkflowId(name), firstRunId) },
      ];
    },
  },
  /**
   * Deferred records (patched 'intake-deferred-records'): admissions write only chunks, duplicates of requests still
   * only in their chunk are found there, recordIntakeChunks writes the records beside the loop, and the chunks' marks
   * go through a continue-as-new.
   */
  'intake-deferred-records': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 1_500_000 }, spread: 0 } },
    run: async (c) => {
      const name = 'recorded-deferred';
      const target = smallIntake(c, name);
      await createIntake(target);
      const handle = c.client.workflow.getHandle(intakeWorkflowId(name));
      const firstRunId = (await handle.describe()).runId;
      const request = (i: number): IntakeRequest => ({
        custom_id: `d-${i}`,
        tier: 'bulk',
        params: { model: DEFAULTS.model, max_tokens: 16, messages: [{ role: 'user', content: prompt(i) }] },
      });
      let i = 0;
      await until(
        'the intake to continue as new',
        async () => {
          if ((await handle.describe()).runId !== firstRunId) return true;
          const base = i;
          i += 6;
          // Each round sends again one request of the round before, still buffered (or just recorded).
          await Promise.all([
            enqueue(target, [request(base), request(base + 1), request(Math.max(0, base - 1))]),
            enqueue(target, [request(base + 2), request(base + 3)]),
            enqueue(target, [request(base + 4), request(base + 5)]),
          ]);
          if (i % 36 === 0) await flushIntake(c.client, name);
          return false;
        },
        180_000,
      );
      return [{ name: 'intake-deferred-records', handle: c.client.workflow.getHandle(intakeWorkflowId(name), firstRunId) }];
    },
  },
  /**
   * The handover (patched 'intake-handover'): enqueues keep coming from three senders that never wait for each other,
   * so some are in flight when the intake is due to continue as new; it waits only for those, refuses the others
   * (sent again by the client to the next run), and answers a flush then.
   */
  'intake-handover': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 1_500_000 }, spread: 0 } },
    run: async (c) => {
      const name = 'recorded-handover';
      const target = smallIntake(c, name);
      await createIntake(target);
      const handle = c.client.workflow.getHandle(intakeWorkflowId(name));
      const firstRunId = (await handle.describe()).runId;
      const request = (i: number): IntakeRequest => ({
        custom_id: `h-${i}`,
        tier: 'bulk',
        params: { model: DEFAULTS.model, max_tokens: 16, messages: [{ role: 'user', content: prompt(i) }] },
      });
      let i = 0;
      let continued = false;
      const sender = async () => {
        while (!continued) {
          const base = i;
          i += 2;
          await enqueue(target, [request(base), request(base + 1)]);
          if (base % 40 === 0) await flushIntake(c.client, name);
        }
      };
      const senders = [sender(), sender(), sender()];
      await until('the intake to continue as new', async () => (await handle.describe()).runId !== firstRunId, 180_000);
      continued = true;
      await Promise.all(senders);
      return [{ name: 'intake-handover', handle: c.client.workflow.getHandle(intakeWorkflowId(name), firstRunId) }];
    },
  },
  /**
   * The early handover (patched 'intake-early-handover'): senders of ten requests each and flushes make rounds of
   * many cuts (batchSize 5, eight at a time); once due to continue as new the run starts no more cuts, refuses new
   * enqueues and continues as soon as the accepted ones are answered, the buffer's cuts left to the next run.
   */
  'intake-early-handover': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 1_500_000 }, spread: 0 } },
    run: async (c) => [{ name: 'intake-early-handover', handle: await sendUntilContinuedAsNew(c, 'recorded-early-handover', 'e') }],
  },
  /**
   * The quiet handover (patched 'intake-quiet-handover', and 'job-end-by-update' in its jobs): senders of ten requests
   * each and flushes, as in the early handover; the intake starts each job by startIntakeJob (no child events), each
   * job reports its end by a subBatchDone update from its reportJobEnded activity, and the run waits for a recording
   * in flight before it continues as new. Recorded: the intake's first run and one of its jobs.
   */
  'intake-quiet-handover': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 100_000 }, spread: 0 } },
    run: async (c) => {
      const first = await sendUntilContinuedAsNew(c, 'recorded-quiet-handover', 'q');
      const ended = (await first.fetchHistory()).events!.flatMap((e) => {
        const a = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
        return a?.name === 'subBatchDone' ? [(JSON.parse(Buffer.from(a.args!.payloads![0]!.data!).toString()) as { jobId: string }).jobId] : [];
      });
      // Batches end in 0.1 s, so jobs end while the first run still takes enqueues.
      if (ended.length === 0) throw new Error('no job reported its end to the first run');
      return [
        { name: 'intake-quiet-handover', handle: first },
        { name: 'intake-quiet-handover-job', handle: c.client.workflow.getHandle(ended[0]!) },
      ];
    },
  },
  /**
   * Retention (patched 'intake-retention'): chunks done with are listed for the sweep, and the sweep deletes records,
   * bodies and chunks past retention (1 s, floored at twice the 3 s SLA), then a custom_id from before is accepted anew.
   */
  'intake-retention': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 1_500_000 }, spread: 0 } },
    run: async (c) => {
      const name = 'recorded-retention';
      const target = {
        client: c.client,
        store: c.stack.store,
        taskQueue: c.stack.taskQueue,
        intake: name,
        options: {
          cutLeadMs: 200,
          retentionMs: 1_000,
          tiers: { standard: { slaMs: 3_600, windowMs: 1_000, marginMs: 200 }, bulk: { slaMs: 3_000, windowMs: 1_000, marginMs: 200 } },
          job: { poll: { initialMs: 150, growth: 1.3, capMs: 400 } },
        },
        defaults: DEFAULTS,
      };
      await createIntake(target);
      const handle = c.client.workflow.getHandle(intakeWorkflowId(name));
      const firstRunId = (await handle.describe()).runId;
      const request = (id: string): IntakeRequest => ({
        custom_id: id,
        tier: 'bulk',
        params: { model: DEFAULTS.model, max_tokens: 16, messages: [{ role: 'user', content: prompt(id.length) }] },
      });
      const settle = async (n: number) => {
        await until(`${n} counted`, async () => (await intakeStatus(c.client, name)).counters.succeeded >= n, 120_000);
        // Spent chunks are listed a second after, at the intake's next turn: a duplicate call is one.
        await new Promise((r) => setTimeout(r, 1_200));
        await enqueue(target, [request('old-2')]);
      };
      await enqueue(target, [request('old-1'), request('old-2')]);
      await flushIntake(c.client, name);
      await settle(2);
      await new Promise((r) => setTimeout(r, 7_500));
      await enqueue(target, [request('new-1')]);
      await flushIntake(c.client, name);
      await settle(3);
      const record = intakeKeys.requestRecord(name, 'old-1');
      await until('the sweep', async () => !(await c.stack.store.exists(record)), 120_000);
      await enqueue(target, [request('old-1')]);
      await flushIntake(c.client, name);
      await until('4 counted', async () => (await intakeStatus(c.client, name)).counters.succeeded >= 4, 120_000);
      return [{ name: 'intake-retention', handle: c.client.workflow.getHandle(intakeWorkflowId(name), firstRunId) }];
    },
  },
  /**
   * The bounded sweep (patch 'intake-bounded-sweep'): a backlog of more retired lists than one sweep call takes is swept
   * beside the loop over several calls, each at most SWEEP_LISTS_PER_CALL lists; the intake cuts on meanwhile.
   */
  'intake-bounded-sweep': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 1_500_000 }, spread: 0 } },
    run: async (c) => {
      const name = 'recorded-bounded-sweep';
      const backlog = await seedSweepBacklog(c.stack.store, name, SWEEP_LISTS_PER_CALL + 4);
      const target = {
        client: c.client,
        store: c.stack.store,
        taskQueue: c.stack.taskQueue,
        intake: name,
        options: {
          cutLeadMs: 200,
          retentionMs: 1_000,
          tiers: { standard: { slaMs: 3_600, windowMs: 1_000, marginMs: 200 }, bulk: { slaMs: 3_000, windowMs: 1_000, marginMs: 200 } },
          job: { poll: { initialMs: 150, growth: 1.3, capMs: 400 } },
        },
        defaults: DEFAULTS,
      };
      await createIntake(target);
      const handle = c.client.workflow.getHandle(intakeWorkflowId(name));
      const firstRunId = (await handle.describe()).runId;
      const request = (id: string): IntakeRequest => ({
        custom_id: id,
        tier: 'bulk',
        params: { model: DEFAULTS.model, max_tokens: 16, messages: [{ role: 'user', content: prompt(id.length) }] },
      });
      await enqueue(target, [request('first')]);
      await flushIntake(c.client, name);
      await until('1 counted', async () => (await intakeStatus(c.client, name)).counters.succeeded >= 1, 120_000);
      // Its chunk is listed a second after, at the intake's next turn (a duplicate call is one): the sweep starts.
      await new Promise((r) => setTimeout(r, 1_200));
      await enqueue(target, [request('first')]);
      const listed = async () => await c.stack.store.list(intakeKeys.retiredLists(name));
      await until('the backlog swept', async () => (await listed()).every((k) => !backlog.listKeys.includes(k)), 120_000);
      await enqueue(target, [request('second')]);
      await flushIntake(c.client, name);
      await until('2 counted', async () => (await intakeStatus(c.client, name)).counters.succeeded >= 2, 120_000);
      return [{ name: 'intake-bounded-sweep', handle: c.client.workflow.getHandle(intakeWorkflowId(name), firstRunId) }];
    },
  },
  /**
   * An intake on a queue of its own (patched 'intake-bulk-on-job-queue'), served by a second worker as
   * SLUICE_INTAKE_TASK_QUEUE makes it: admissions and job starts on that queue, cuts on the jobs' queue. Three bulk
   * requests flushed into one cut, then an urgent one cut at once; recorded once all four are counted.
   */
  'intake-bulk-on-job-queue': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 500_000 }, spread: 0 } },
    run: async (c) => {
      const name = 'recorded-bulk-on-job-queue';
      const intakeTaskQueue = `${c.stack.taskQueue}-intake`;
      const o: SluiceWorkerOptions = {
        connection: c.stack.env.nativeConnection,
        namespace: c.stack.env.namespace ?? 'default',
        taskQueue: c.stack.taskQueue,
        apiKey: c.stack.emulator.apiKey,
        baseURL: c.stack.emulator.url,
        store: c.stack.store,
      };
      const intakeWorker = await createIntakeWorker({ ...o, intakeTaskQueue }, sluicePluginFor(o));
      const target = { ...smallIntake(c, name), intakeTaskQueue };
      const request = (id: string, tier: IntakeRequest['tier']): IntakeRequest => ({
        custom_id: id,
        tier,
        params: { model: DEFAULTS.model, max_tokens: 16, messages: [{ role: 'user', content: prompt(id.length) }] },
      });
      return intakeWorker.runUntil(async () => {
        await createIntake(target);
        await enqueue(target, ['b-1', 'b-2', 'b-3'].map((id) => request(id, 'bulk')));
        await flushIntake(c.client, name);
        await enqueue(target, [request('u-1', 'urgent')]);
        await until('4 counted', async () => (await intakeStatus(c.client, name)).counters.succeeded >= 4, 120_000);
        return [{ name: 'intake-bulk-on-job-queue', handle: c.client.workflow.getHandle(intakeWorkflowId(name)) }];
      });
    },
  },
  /** One audit run from a schedule: snapshot (one bad line skipped), the child job, reconciliation. */
  'audit-schedule': {
    emulator: { timeScale: 0.001, latency: { batch: { kind: 'fixed', ms: 1_000_000 }, spread: 0 } },
    run: async (c) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-history-audit-'));
      const lines = Array.from({ length: 8 }, (_, i) =>
        JSON.stringify({ custom_id: `a-${i}`, params: { messages: [{ role: 'user', content: prompt(i) }] } }),
      );
      lines[3] = '{"params": {"messages": "not a list"}}';
      await writeFile(path.join(dir, 'a.jsonl'), lines.join('\n') + '\n');
      await createSchedule({
        client: c.client,
        taskQueue: c.stack.taskQueue,
        name: 'recorded',
        audit: {
          input: dir,
          defaults: DEFAULTS,
          job: { ...FAST_POLL, batchSize: 4 },
          reconcile: { orphanGraceMs: 0, uncollectedGraceMs: 0 },
        },
        cadence: { everyMs: 24 * 3_600_000 },
      });
      await triggerSchedule(c.client, 'recorded');
      let run: { workflowId: string; result?: { jobId: string } } | undefined;
      await until('the audit run to complete', async () => {
        run = (await describeSchedule(c.client, 'recorded')).recentRuns.find((r) => r.status === 'COMPLETED');
        return run !== undefined;
      });
      await deleteSchedule(c.client, 'recorded');
      return [
        { name: 'audit-schedule', handle: c.client.workflow.getHandle(run!.workflowId) },
        { name: 'audit-schedule-job', handle: c.client.workflow.getHandle(run!.result!.jobId) },
      ];
    },
  },
};

/** One event per line: small, and a re-recording shows as a readable diff. */
function formatHistory(json: HistoryJson): string {
  return `{"events":[\n${json.events.map((e) => JSON.stringify(e)).join(',\n')}\n]}\n`;
}

async function main() {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in scenarios));
  if (unknown.length) {
    console.error(`Unknown scenario(s): ${unknown.join(', ')}. Known: ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
  const env = await testEnv();
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    logger: new DefaultLogger('WARN'),
  });
  const bundlePath = path.join(await mkdtemp(path.join(os.tmpdir(), 'sluice-bundle-')), 'workflows.js');
  await writeFile(bundlePath, code);
  await mkdir(HISTORIES_DIR, { recursive: true });
  const repoRoot = path.resolve(__dirname, '..');
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (wanted.length && !wanted.includes(name)) continue;
    const started = Date.now();
    const stack = await startStack(scenario.emulator);
    const worker = await stack.startWorker({ ...scenario.worker, workflowBundlePath: bundlePath });
    try {
      const recorded = await worker.runUntil(scenario.run({ stack, client: env.client, worker }));
      for (const r of recorded) {
        const json = historyAsJson(await r.handle.fetchHistory());
        const file = path.join(HISTORIES_DIR, `${r.name}.json`);
        await writeFile(file, formatHistory(scrubHistory(json, repoRoot)));
        console.log(`${r.name}: ${json.events.length} events`);
      }
    } finally {
      await stack.close();
    }
    console.log(`${name}: recorded in ${((Date.now() - started) / 1_000).toFixed(1)} s`);
  }
}

main().then(
  async () => {
    await (await testEnv()).teardown();
    process.exit(0);
  },
  async (err: unknown) => {
    console.error(err);
    await (await testEnv()).teardown();
    process.exit(1);
  },
);
