/**
 * `npm run bench:intake`: requests enqueued in bunches at a sustained rate into one intake on a real dev server, with
 * the worker in its own process and the emulator in compressed time (a day of tier windows passes in ~90 s). Prints
 * the rate, p50/p99 latency of an enqueue call, the continue-as-new input sizes, the worker's peak RSS, and the
 * audit of every request: lost, sent twice, or with other than exactly one outcome. A few bunches are sent twice on
 * purpose (a client's retry): every one of their requests must come back `duplicate`.
 *
 *   npm run bench:intake -- --total 30000 --rate 500 --bunch 100
 *   npm run bench:intake -- --total 1000000 --rate 500            # a long run
 *   npm run bench:intake -- --intake-queue on                      # the intake's worker in the jobs' worker process
 *   npm run bench:intake -- --intake-queue off                     # the intake on the jobs' queue
 *   npm run bench:intake -- --histories runs.json                  # keep the intake's histories for bench:replay
 */
import { spawn } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createIntake, enqueue, intakeResults, intakeStatus, IntakeRefusedError, type EnqueueAnswer, type IntakeRequest } from '../src/client/intake';
import { freePort, startDevServer, stopChild } from '../src/dev/dev-server';
import { requireTemporalCliPath } from '../src/dev/temporal-cli';
import type { IntakeOptionsInput, Tier } from '../src/domain/intake';
import { isRetryableUpdateError } from '../src/client/update-retry';
import { startEmulator } from '../src/emulator';
import { LocalDirectoryStore } from '../src/store/local-store';
import { intakeWorkflowId } from '../src/workflows';
import { intakeProfiler, profileRows } from './intake-profile';
import { slowestRows, type Call, type Stall } from './intake-slowest';
import { peakRssOf, printTable, runToEnd } from './report';

const { values: args } = parseArgs({
  options: {
    total: { type: 'string', default: '30000' },
    rate: { type: 'string', default: '500' },
    bunch: { type: 'string', default: '100' },
    'drain-s': { type: 'string', default: '600' },
    /**
     * process: the intake on a queue of its own (SLUICE_INTAKE_TASK_QUEUE), served by a second worker process that
     * serves only it (SLUICE_WORKER_SERVES=intakes), as a production deployment would; on: that queue served by a
     * second Worker in the jobs' worker process; off: the intake on the jobs' queue.
     */
    'intake-queue': { type: 'string', default: 'process' },
    /**
     * before: the intake is created (`sluice intake create`, createIntake()) and answers a query before the first
     * enqueue, as a user would, and its creation is shown on its own row; first-call: the first enqueue creates it.
     */
    create: { type: 'string', default: 'before' },
    /** How many of the slowest calls are shown, each with what it coincided with. */
    slowest: { type: 'string', default: '5' },
    /** Write the intake's run histories (JSON) here, for `npm run bench:replay -- --histories FILE`. */
    histories: { type: 'string' },
  },
});
const TOTAL = Number(args.total);
const RATE = Number(args.rate);
const BUNCH = Number(args.bunch);
const DRAIN_S = Number(args['drain-s']);
const OWN_QUEUE = args['intake-queue'] !== 'off';
const OWN_PROCESS = args['intake-queue'] === 'process';
if (!['process', 'on', 'off'].includes(args['intake-queue'])) throw new Error('--intake-queue must be process, on or off');
if (!['before', 'first-call'].includes(args.create)) throw new Error('--create must be before or first-call');
const CREATE_BEFORE = args.create === 'before';
const SLOWEST = Number(args.slowest);
const WORKER_HEAP_MB = 512;
/** The slowest-call table holds every run's history at once; past this many runs it is left out. */
const MAX_RUNS_FOR_SLOWEST = 40;
/** Every this many bunches, one is sent again, as a client that lost the answer would. */
const RETRY_EVERY = 50;
const children: ReturnType<typeof spawn>[] = [];

/** Windows compressed 1,000-fold: bulk waits at most ~14 s for company, standard ~2 s. */
const OPTIONS: IntakeOptionsInput = {
  cutLeadMs: 500,
  // A synchronous call's minute, compressed as the windows are: the straggler rule of a cut's job plans with it.
  syncRequestMs: 60,
  silentCheckAfterMs: 60_000,
  tiers: { standard: { slaMs: 3_600, windowMs: 1_000, marginMs: 200 }, bulk: { slaMs: 108_000, windowMs: 86_400, marginMs: 7_200 } },
  job: { poll: { initialMs: 250, growth: 1.5, capMs: 1_000 } },
};

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-intake-'));
  const server = await startDevServer({ binary: await requireTemporalCliPath({ log: console.error }), port: await freePort() });
  const emulator = await startEmulator({ timeScale: 0.001, latency: { batch: { kind: 'lognormal', medianMs: 60_000, sigma: 0.5, minMs: 10_000, maxMs: 600_000 } } });
  const storeDir = path.join(tmp, 'store');
  const taskQueue = 'bench-intake';
  const intakeTaskQueue = OWN_QUEUE ? 'bench-intake-own' : undefined;
  const bundle = path.join(tmp, 'workflow-bundle.js');
  await runToEnd(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'scripts', 'build-workflow-bundle.ts'), bundle]);
  const startWorker = (serves: 'all' | 'jobs' | 'intakes') =>
    spawn(process.execPath, [`--max-old-space-size=${WORKER_HEAP_MB}`, '--import', 'tsx', path.join(__dirname, '..', 'src', 'cli', 'main.ts'), 'worker'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        SLUICE_TASK_QUEUE: taskQueue,
        ANTHROPIC_API_KEY: emulator.apiKey,
        ANTHROPIC_BASE_URL: emulator.url,
        SLUICE_STORE_DIR: storeDir,
        SLUICE_WORKFLOW_BUNDLE: bundle,
        SLUICE_LOG_LEVEL: 'warn',
        SLUICE_WORKER_SERVES: serves,
        ...(intakeTaskQueue ? { SLUICE_INTAKE_TASK_QUEUE: intakeTaskQueue } : {}),
      },
    });
  const worker = startWorker(OWN_PROCESS ? 'jobs' : 'all');
  children.push(worker);
  const intakeWorker = OWN_PROCESS ? startWorker('intakes') : undefined;
  if (intakeWorker) children.push(intakeWorker);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const target = { client, store: new LocalDirectoryStore(storeDir), taskQueue, intakeTaskQueue, intake: 'bench', options: OPTIONS };

  const latencies: number[] = [];
  const calls: Call[] = [];
  let createdMs: number | undefined;
  if (CREATE_BEFORE) {
    const t0 = Date.now();
    await createIntake(target);
    // Answering a query: its first workflow task has run on a worker.
    for (let attempt = 1; ; attempt++) {
      try {
        await intakeStatus(client, 'bench');
        break;
      } catch (err) {
        if (attempt >= 10) throw err;
      }
    }
    createdMs = Date.now() - t0;
  }
  // Stalls of this process's event loop, with when they were: a slow call that coincided with one is shown so.
  const stalls: Stall[] = [];
  let tickDue = Date.now() + 20;
  const stallTimer = setInterval(() => {
    const now = Date.now();
    if (now - tickDue >= 50) stalls.push({ fromMs: tickDue, toMs: now });
    tickDue = now + 20;
  }, 20);
  // The bench's own process (the client and the emulator) may be starved on a loaded machine: its event-loop delay
  // is part of every latency it measures, so it is printed beside them.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const bunches = Math.ceil(TOTAL / BUNCH);
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  const answers = { accepted: 0, duplicate: 0, refused: 0, invalid: 0 };
  let retriedRequests = 0;
  let retriedDuplicates = 0;
  const requestsOf = (b: number): IntakeRequest[] =>
    Array.from({ length: Math.min(BUNCH, TOTAL - b * BUNCH) }, (_, k) => {
      const i = b * BUNCH + k;
      const tier: Tier = i % 20 === 0 ? 'urgent' : i % 7 === 0 ? 'standard' : 'bulk';
      return { custom_id: `r${i}`, tier, params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: `Event ${i}` }] } };
    });
  let fullWaits = 0;
  /** A full queue refuses the whole call: wait and send it again, as a client under backpressure does. */
  let refusedResent = 0;
  /** Calls the client gave up on while the intake stalled, sent again. */
  let stalledResent = 0;
  const STALL_LIMIT_MS = 300_000;
  /**
   * A full queue refuses the whole call, or the requests past the room: wait and send those again, as a client under
   * backpressure does. Answers are the final ones, one per request, in order.
   */
  const enqueueUntilRoom = async (requests: IntakeRequest[]) => {
    const final = new Map<string, EnqueueAnswer>();
    let pending = requests;
    let stalledSince: number | undefined;
    for (;;) {
      try {
        const got = await enqueue(target, pending);
        for (const a of got) if (a.status !== 'refused') final.set(a.custom_id, a);
        pending = pending.filter((r) => !final.has(r.custom_id));
        if (pending.length === 0) return requests.map((r) => final.get(r.custom_id)!);
        refusedResent += pending.length;
      } catch (err) {
        if (isRetryableUpdateError(err)) {
          // The client gave up waiting for a stalled intake (a workflow task failing or timing out on a loaded
          // machine): nothing of this call was taken, so it is sent again, as a client would; a stall that lasts is
          // the bench's failure.
          stalledResent++;
          stalledSince ??= Date.now();
          if (stalledResent === 1 || Date.now() - stalledSince > STALL_LIMIT_MS) await sayWhyTasksFailed(client);
          if (Date.now() - stalledSince > STALL_LIMIT_MS) throw err;
          continue;
        }
        if (!(err instanceof IntakeRefusedError)) {
          await sayWhyTasksFailed(client);
          throw err;
        }
        fullWaits++;
      }
      stalledSince = undefined;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  let firstLatency: number | undefined;
  let firstSent = false;
  const send = (requests: IntakeRequest[], retry: boolean) => {
    const t0 = Date.now();
    const creates = !CREATE_BEFORE && !firstSent;
    firstSent = true;
    const p = enqueueUntilRoom(requests).then((got) => {
      latencies.push(Date.now() - t0);
      calls.push({ firstId: requests[0]!.custom_id, sentMs: t0, answeredMs: Date.now(), ...(creates ? { creates } : {}) });
      // The first call creates the intake (and warms its worker) unless it was created before: shown apart.
      firstLatency ??= Date.now() - t0;
      for (const a of got) {
        if (retry) {
          retriedRequests++;
          if (a.status === 'duplicate') retriedDuplicates++;
        } else answers[a.status]++;
      }
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  };
  for (let b = 0; b < bunches; b++) {
    const due = started + (b * BUNCH * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const requests = requestsOf(b);
    const first = send(requests, false);
    if (b % RETRY_EVERY === RETRY_EVERY - 1) void first.then(() => send(requests, true));
    // Temporal takes at most 10 updates in flight per workflow; a client keeps below that.
    if (inFlight.size >= 8) await Promise.race(inFlight);
    if (b % 1000 === 999) console.error(`${(b + 1) * BUNCH} sent in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  while (inFlight.size) await Promise.all(inFlight);
  const enqueueWallS = (Date.now() - started) / 1000;
  clearInterval(stallTimer);
  // A query waits for the worker: on a loaded machine it may time out, which is no reason to lose the run.
  const statusNow = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await intakeStatus(client, 'bench');
      } catch (err) {
        if (attempt >= 10) throw err;
        console.error(`status query failed (${(err as Error).message}); asking again`);
      }
    }
  };
  let status = await statusNow();
  const settled = () => status.counters.succeeded + status.counters.failed + status.counters.other >= answers.accepted;
  while (!settled() && Date.now() - started < enqueueWallS * 1000 + DRAIN_S * 1000) {
    await new Promise((r) => setTimeout(r, 2000));
    status = await statusNow();
  }
  const drainedS = (Date.now() - started) / 1000;
  const peakRss = await peakRssOf(worker.pid!);
  const intakePeakRss = intakeWorker ? await peakRssOf(intakeWorker.pid!) : undefined;

  // Every request: exactly one outcome, none lost, none twice. Results are read as a stream and counted by index
  // (one byte per request): at a million requests neither the outcomes nor a map of their ids is held.
  const outcomes = new Uint8Array(TOTAL);
  let strangers = 0;
  for await (const o of intakeResults(client, target.store, 'bench')) {
    const i = /^r\d+$/.test(o.custom_id) ? Number(o.custom_id.slice(1)) : -1;
    if (i >= 0 && i < TOTAL) outcomes[i] = Math.min(255, outcomes[i]! + 1);
    else strangers++;
  }
  let lost = 0;
  let twice = 0;
  for (const n of outcomes) {
    if (n === 0) lost++;
    else if (n > 1) twice++;
  }
  let sentTwice = 0;
  for (const s of Object.values(emulator.stats().submissions)) if (s.batch + s.sync > 1) sentTwice++;

  // One history at a time, oldest run first (the list is newest first): only the run ids are held.
  const runs: { workflowId: string; runId: string }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = "${intakeWorkflowId('bench')}"` })) runs.push({ workflowId: wf.workflowId, runId: wf.runId });
  const profiler = intakeProfiler();
  for (const run of runs.reverse()) profiler.add(await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory());
  const profile = profiler.result();
  const can = profile.continuedAsNew;
  const biggest = can.reduce((m, c) => (c.bytes > m.bytes ? c : m), { bytes: 0, buffered: 0 });
  const deepest = can.reduce((m, c) => (c.buffered > m.buffered ? c : m), { bytes: 0, buffered: 0 });
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  printTable(
    ['measure', 'value'],
    [
      [
        'intake queue',
        intakeTaskQueue
          ? `its own (${intakeTaskQueue}, ${OWN_PROCESS ? 'served by a worker process of its own' : 'a second worker in the worker process'}); jobs on ${taskQueue}`
          : `the jobs' (${taskQueue})`,
      ],
      ['requests enqueued', `${TOTAL} in ${enqueueWallS.toFixed(0)} s: ${(TOTAL / enqueueWallS).toFixed(0)}/s (asked ${RATE}/s), ${bunches} calls of ${BUNCH}`],
      ...(createdMs !== undefined ? [['intake created (before the first enqueue)', `${createdMs} ms, until it answered a query`]] : []),
      ['enqueue call latency p50 / p90 / p99', `${pct(50)} ms / ${pct(90)} ms / ${pct(99)} ms, first call ${firstLatency} ms${CREATE_BEFORE ? '' : ' (it creates the intake)'} (${latencies.length} calls, ${fullWaits} refused as queue full and sent again; ${refusedResent} requests refused past the room and sent again; ${stalledResent} calls sent again after the intake stalled)`],
      ['bench process event-loop delay p50 / p99', `${(loopDelay.percentile(50) / 1e6).toFixed(0)} ms / ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms (client and emulator; part of every latency above)`],
      ['answers', `${answers.accepted} accepted, ${answers.duplicate} duplicate, ${answers.refused} refused, ${answers.invalid} invalid`],
      ['retried bunches', `${retriedRequests} requests sent again: ${retriedDuplicates} answered duplicate`],
      ['outcomes', `${status.counters.succeeded} succeeded, ${status.counters.failed} failed, ${status.counters.other} other, after ${drainedS.toFixed(0)} s`],
      ['lost / two outcomes / sent twice', `${lost} / ${twice} / ${sentTwice}${strangers ? ` (and ${strangers} outcomes for ids never sent)` : ''}`],
      ['jobs cut', `${status.cuts} (${status.counters.coalescedCuts} standard/bulk)`],
      ['sub-batches', `${status.subBatches ?? status.cuts} (filled ${(status.fillRate * 100).toFixed(0)} % of ${status.batchSize ?? 100} on average)`],
      [
        'continue-as-new input',
        can.length
          ? `max ${kb(biggest.bytes)} (at ${biggest.buffered} buffered) over ${can.length}; at the deepest buffer (${deepest.buffered}) ${kb(deepest.bytes)} (limit 256 KB)`
          : 'no continue-as-new',
      ],
      ['intake history events', `${profile.events} over ${runs.length} runs`],
      ...profileRows(profile),
      [
        'worker peak RSS',
        `${(peakRss / 2 ** 20).toFixed(0)} MB${intakePeakRss ? ` jobs' worker, ${(intakePeakRss / 2 ** 20).toFixed(0)} MB intakes' worker` : ''} (heap capped at ${WORKER_HEAP_MB} MB each)`,
      ],
    ],
  );
  // The slowest calls read every run's history at once: only for runs few enough to hold (a long run has hundreds).
  if (runs.length <= MAX_RUNS_FOR_SLOWEST) {
    const histories = [];
    for (const run of runs) histories.push(await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory());
    if (args.histories) await writeFile(args.histories, JSON.stringify(histories));
    printTable(['slowest call', 'sent', 'where its time went (ms)', 'coincided with'], slowestRows(calls, histories, stalls, started, SLOWEST));
  } else {
    console.log(`(the slowest calls are not drawn over ${runs.length} runs of the intake: at most ${MAX_RUNS_FOR_SLOWEST})`);
    // Kept all the same when asked for (a long run's are what bench:replay should see), one run at a time.
    if (args.histories) await writeHistories(client, args.histories, runs);
  }
  await stopChild(worker);
  if (intakeWorker) await stopChild(intakeWorker);
  await connection.close();
  await emulator.close();
  await server.stop();
  await rm(tmp, { recursive: true, force: true });
}

/** A failing workflow task refuses updates: print why it failed, from the intake's history. */
async function sayWhyTasksFailed(client: Client) {
  const history = await client.workflow.getHandle(intakeWorkflowId('bench')).fetchHistory().catch(() => undefined);
  for (const e of history?.events ?? []) {
    const f = e.workflowTaskFailedEventAttributes;
    if (f) console.error(`workflow task failed at event ${String(e.eventId)}: ${String(f.cause)} ${f.failure?.message ?? ''}\n${f.failure?.stackTrace ?? ''}`);
    const t = e.workflowTaskTimedOutEventAttributes;
    if (t) console.error(`workflow task timed out at event ${String(e.eventId)} (${String(t.timeoutType)}), started at event ${String(t.startedEventId)}`);
  }
}

function kb(bytes: number) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

// A bench that fails must not leave its worker behind (the dev server is stopped with this process).
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** The runs' histories as one JSON array, written as each is fetched: only one run is held at a time. */
async function writeHistories(client: Client, file: string, runs: readonly { workflowId: string; runId: string }[]) {
  const out = await open(file, 'w');
  try {
    await out.write('[');
    for (const [i, run] of runs.entries()) {
      const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      await out.write(`${i ? ',' : ''}${JSON.stringify(history)}`);
    }
    await out.write(']');
  } finally {
    await out.close();
  }
}
