/**
 * A chaos run: one job against the emulator with faults on, while the worker process is killed with SIGKILL
 * and the Temporal dev server is restarted at seeded moments; then the output is checked from the outside
 * (verify.ts). `npm run chaos` runs the full size; test/chaos.test.ts a small one through the same function.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startJob } from '../../src/client/jobs';
import { freePort } from '../../src/dev/dev-server';
import { requireTemporalCliPath } from '../../src/dev/temporal-cli';
import type { EmulatorStats } from '../../src/emulator';
import { mulberry32 } from '../../src/emulator/prng';
import { LocalDirectoryStore } from '../../src/store/local-store';
import { accountFingerprint } from '../../src/activities/account-key';
import { accountSchedulerWorkflowId } from '../../src/contracts/workflow-ids';
import { progressQuery, type sluiceJob } from '../../src/workflows';
import { DEFAULT_CHAOS_OPTIONS, LATENCY, TIME_SCALE, WINDOW_MS, type ChaosOptions } from './options';
import { startEmulatorProcess, TemporalServer, WorkerProcesses } from './processes';
import { describePending, queryProgress, saveHistories, StallWatch } from './stall';
import { verifyJob, type Check } from './verify';
import { decodeWireId } from '../../src/domain/wire-id';

export interface ChaosEvent {
  kind: 'worker-kill' | 'server-restart';
  /** Share of requests finished when the event is due. */
  atFraction: number;
  /** Real ms waited after that, so events do not line up with collects. */
  delayMs: number;
  /** Filled in when it happened. */
  atMs?: number;
  pendingActivities?: number;
  downMs?: number;
}

export interface ChaosReport {
  ok: boolean;
  checks: Check[];
  events: ChaosEvent[];
  wallMs: number;
  workDir?: string;
}

const API_KEY = 'sk-emulator-chaos';
const DEFAULTS = { model: 'claude-haiku-4-5', max_tokens: 64 };

/**
 * Moments of the kills and restarts: seeded shares of the job done between 5 % and 55 %, each event in its own
 * slice of that range, the restarts spread among the kills. Drawn anywhere in the range, several events could fall
 * on one step of the share done (it jumps by whole batches) and queue behind each other until the job's end
 * overtook them: seeds 1, 8 and 9 of the 3,000-request runs ended with both planned restarts never made.
 */
export function planEvents(o: Pick<ChaosOptions, 'seed' | 'workerKills' | 'serverRestarts'>): ChaosEvent[] {
  const random = mulberry32(o.seed * 7_919 + 17);
  const n = o.workerKills + o.serverRestarts;
  const restartSlots = new Set(Array.from({ length: o.serverRestarts }, (_, r) => Math.floor(((r + 0.5) * n) / o.serverRestarts)));
  return Array.from({ length: n }, (_, i): ChaosEvent => ({
    kind: restartSlots.has(i) ? 'server-restart' : 'worker-kill',
    atFraction: 0.05 + (0.5 * (i + random())) / n,
    delayMs: Math.floor(random() * 400),
  }));
}

export async function runChaos(options: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const o: ChaosOptions = { ...DEFAULT_CHAOS_OPTIONS, ...options, job: { ...DEFAULT_CHAOS_OPTIONS.job, ...options.job } };
  const log = o.log;
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-chaos-'));
  const cleanup: (() => Promise<void>)[] = [];
  try {
    const input = path.join(workDir, 'input.jsonl');
    const lines = Array.from({ length: o.requests }, (_, i) =>
      JSON.stringify({
        custom_id: `chaos-${String(i).padStart(6, '0')}`,
        params: { messages: [{ role: 'user', content: `Classify item ${i} of the chaos run.` }] },
      }),
    );
    await writeFile(input, lines.join('\n') + '\n');

    const [temporalPort, emulatorPort] = [await freePort(), await freePort()];
    const statePath = path.join(workDir, 'emulator.json');
    const emulatorOptions = {
      port: emulatorPort,
      apiKey: API_KEY,
      statePath,
      seed: o.seed,
      timeScale: TIME_SCALE,
      windowMs: WINDOW_MS,
      latency: LATENCY,
      logFile: path.join(workDir, 'emulator.log'),
    };
    const emulator = await startEmulatorProcess({ ...emulatorOptions, faults: o.faults });
    let emulatorStopped = false;
    cleanup.push(async () => void (emulatorStopped ? undefined : await emulator.stop()));

    const server = new TemporalServer({
      binary: await requireTemporalCliPath({ log }),
      port: temporalPort,
      dbFile: path.join(workDir, 'temporal.db'),
      logFile: path.join(workDir, 'temporal.log'),
    });
    await server.start();
    cleanup.push(() => server.stop());

    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietLogger });
    const bundlePath = path.join(workDir, 'workflows.js');
    await writeFile(bundlePath, code);
    const storeDir = path.join(workDir, 'store');
    const taskQueue = 'chaos';
    const workers = new WorkerProcesses(
      { temporalAddress: server.address, taskQueue, apiKey: API_KEY, baseURL: emulator.url, storeDir, bundlePath },
      path.join(workDir, 'workers.log'),
    );
    cleanup.push(() => workers.stop());
    await workers.start();

    const connection = await Connection.connect({ address: server.address });
    cleanup.push(() => connection.close());
    const client = new Client({ connection });
    const store = new LocalDirectoryStore(storeDir);

    log(`chaos: ${o.requests} requests, ${o.workerKills} worker kills, ${o.serverRestarts} server restarts, seed ${o.seed}, work dir ${workDir}`);
    const startedAt = Date.now();
    // Several jobs of one file, started together: equal sub-batch sizes, the same custom_ids, the same second.
    const started = await Promise.all(
      Array.from({ length: o.jobs }, () => startJob({ client, store, taskQueue, file: input, name: 'chaos', defaults: DEFAULTS, options: o.job })),
    );
    const handles = started.map((j) => j.handle);
    const handle = handles[0]!;
    const events = planEvents(o);
    const since = () => Date.now() - startedAt;

    let next = 0;
    let lastEventFraction = -1;
    let status: string | undefined;
    // No job moving for stallMs (longer than any activity timeout and its retries) is a stuck run: say where, per
    // job (a query that fails is said as such, not taken for a job that waits), and keep the histories.
    const watch = new StallWatch(handles.length, o.stallMs);
    let lastCheckAt = 0;
    for (;;) {
      if (since() > o.timeoutMs) throw new Error(`the job did not finish within ${o.timeoutMs} ms:\n${workers.output()}`);
      if (Date.now() - lastCheckAt > 2_000) {
        lastCheckAt = Date.now();
        watch.observe(await queryProgress(handles));
        const stuck = watch.stuck();
        if (stuck) {
          const pending = await describePending(handles, client.workflow.getHandle(accountSchedulerWorkflowId(accountFingerprint(API_KEY))));
          const saved = await saveHistories(workDir, [...handles, client.workflow.getHandle(accountSchedulerWorkflowId(accountFingerprint(API_KEY)))]);
          throw new Error(
            `the job is stuck: no job moved for ${secs(o.stallMs)}\n${stuck}\n${pending}\nhistories: ${saved.map((f) => path.basename(f)).join(', ') || 'none saved'}`,
          );
        }
      }
      if (await workers.ensureRunning()) log(`chaos: ${secs(since())} worker exited on its own; started another`);
      const statuses = await Promise.all(handles.map(describeStatus));
      if (statuses.every((x) => x !== undefined && x !== 'RUNNING')) {
        status = statuses.find((x) => x !== 'COMPLETED') ?? 'COMPLETED';
        break;
      }
      const event = events[next];
      if (event) {
        const fractions = await Promise.all(handles.map(doneFraction));
        const fraction = fractions.some((f) => f === undefined) ? undefined : Math.min(...(fractions as number[]));
        // Due, and the job moved since the last event (so events do not pile up on one stall).
        if (fraction !== undefined && fraction >= event.atFraction && fraction > lastEventFraction) {
          lastEventFraction = fraction;
          await sleep(event.delayMs);
          if (o.chaosTiming === 'between-activities') await quietMoment(handle, 15_000);
          event.pendingActivities = await pendingActivities(handle);
          event.atMs = since();
          const downFrom = Date.now();
          if (event.kind === 'worker-kill') {
            await workers.kill();
            await sleep(Math.floor(mulberry32(o.seed + next)() * 1_000));
            await workers.start();
          } else {
            await server.restart();
          }
          event.downMs = Date.now() - downFrom;
          log(`chaos: ${secs(event.atMs)} ${event.kind} at ${(fraction * 100).toFixed(0)} % done, ${event.pendingActivities} activities running; back after ${secs(event.downMs)}`);
          next++;
          continue;
        }
      }
      await sleep(100);
    }
    const wallMs = since();
    let failure = '';
    if (status !== 'COMPLETED') {
      for (const h of handles) failure ||= await h.result().then(() => '', (err: unknown) => rootMessage(err));
    }
    log(`chaos: ${secs(wallMs)} ${o.jobs} job(s) ${status ?? '?'}${failure ? `: ${failure}` : ''}`);

    const stats: EmulatorStats = await emulator.stats();
    await workers.stop();
    await emulator.stop();
    emulatorStopped = true;
    // The same batches, served without faults, for reading every batch's results.
    const reader = await startEmulatorProcess({ ...emulatorOptions, port: await freePort(), logFile: path.join(workDir, 'emulator-verify.log') });
    const checks: Check[] = [];
    const row = (check: string, value: string | number, ok: boolean, note = '') => checks.push({ check, value: String(value), ok, note });
    row(o.jobs === 1 ? 'job' : `${o.jobs} jobs`, status ?? 'unknown', status === 'COMPLETED', failure);
    try {
      if (status === 'COMPLETED') {
        for (const [n, { workflowId }] of started.entries()) {
          const v = await verifyJob({ jobId: workflowId, store, stats, api: reader, maxAttempts: o.job.maxAttempts ?? 3 });
          const tag = o.jobs === 1 ? '' : `job ${n + 1}: `;
          checks.push(...v.checks.map((c) => ({ ...c, check: tag + c.check })));
          row(`${tag}outcomes`, Object.entries(v.outcomes).map(([k, x]) => `${x} ${k}`).join(', '), true);
          row(`${tag}attempts`, Object.entries(v.attempts).map(([k, x]) => `${x} × ${k}`).join(', '), true);
          row(`${tag}submissions reconciled`, v.reconciledSubmissions, true, 'creates without an answer, proven by claim or content');
        }
        const created = stats.createLog.length;
        const twice = Object.entries(stats.submissions).filter(([id, x]) => decodeWireId(id) !== undefined && x.batch > 1).length;
        row('wire ids sent in two batches', twice, twice === 0, `of ${Object.keys(stats.submissions).length} wire ids in ${created} batches`);
      }
    } finally {
      await reader.stop();
    }
    const kills = events.filter((e) => e.kind === 'worker-kill' && e.atMs !== undefined);
    const restarts = events.filter((e) => e.kind === 'server-restart' && e.atMs !== undefined);
    const midActivity = kills.filter((e) => (e.pendingActivities ?? 0) > 0).length;
    // An event still pending when the job ended was overtaken (the share done jumps by whole batches): that is not
    // a fault of the job, as long as the run saw at least one of each kind.
    const overtaken = (kind: ChaosEvent['kind']) => events.filter((e) => e.kind === kind && e.atMs === undefined).length;
    const survived = (done: number, planned: number) => done === planned || done >= 1;
    const overtakenNote = (kind: ChaosEvent['kind']) => (overtaken(kind) ? `; ${overtaken(kind)} overtaken by the job's end` : '');
    row(
      'worker kills survived (SIGKILL)',
      `${kills.length} of ${o.workerKills}`,
      survived(kills.length, o.workerKills),
      `${midActivity} with activities running; at ${kills.map((e) => secs(e.atMs!)).join(', ') || '—'}${overtakenNote('worker-kill')}`,
    );
    row(
      'server restarts survived',
      `${restarts.length} of ${o.serverRestarts}`,
      survived(restarts.length, o.serverRestarts),
      `at ${restarts.map((e) => secs(e.atMs!)).join(', ') || '—'}, down ${restarts.map((e) => secs(e.downMs!)).join(', ') || '—'}${overtakenNote('server-restart')}`,
    );
    row('worker exits on their own', workers.unplannedExits, true, 'restarted by the harness');
    row('API calls', Object.entries(stats.calls).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', '), true, `${stats.batches} batches created`);
    row('wall time', secs(wallMs), true, `from start to the job's end; ${o.chaosTiming} chaos timing`);
    const ok = checks.every((c) => c.ok);
    // A violation keeps the evidence: databases, store, emulator state, logs.
    if (!ok) o.keep = true;
    return { ok, checks, events, wallMs, workDir: o.keep ? workDir : undefined };
  } catch (err) {
    // A stuck or failed run keeps its evidence too (seed 2 at 10,000 requests stalled, and its work dir was gone).
    o.keep = true;
    log(`chaos: the run failed; work dir kept: ${workDir}`);
    throw err;
  } finally {
    for (const step of cleanup.reverse()) await step().catch((err: unknown) => log(`chaos: cleanup: ${String(err)}`));
    if (!o.keep) await rm(workDir, { recursive: true, force: true });
  }
}

async function describeStatus(handle: WorkflowHandle): Promise<string | undefined> {
  try {
    return (await handle.describe()).status.name;
  } catch {
    return undefined; // the server is restarting
  }
}

async function doneFraction(handle: WorkflowHandle<typeof sluiceJob>): Promise<number | undefined> {
  try {
    const p = await handle.query(progressQuery);
    if (p.requests.total === 0) return 0;
    return (p.requests.succeeded + p.requests.failed + p.requests.canceled) / p.requests.total;
  } catch {
    return undefined; // no worker to answer right now
  }
}

async function pendingActivities(handle: WorkflowHandle): Promise<number> {
  try {
    return (await handle.describe()).raw.pendingActivities?.length ?? 0;
  } catch {
    return -1;
  }
}

/** Waits (at most `maxMs`) for a moment with no activity and no workflow task pending. */
async function quietMoment(handle: WorkflowHandle, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    try {
      const raw = (await handle.describe()).raw;
      if ((raw.pendingActivities?.length ?? 0) === 0 && !raw.pendingWorkflowTask) return;
    } catch {
      // try again
    }
    await sleep(10);
  }
}

function rootMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The report as a table with a verdict per line. */
export function formatReport(report: ChaosReport): string {
  const head = ['check', 'value', 'ok', 'note'];
  const rows = report.checks.map((c) => [c.check, c.value, c.ok ? 'ok' : 'VIOLATION', c.note]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
