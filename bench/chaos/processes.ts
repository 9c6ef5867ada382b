/**
 * The processes a chaos run starts, stops and kills: the emulator (its own process, state in a file, so it
 * outlives everything else), worker processes (test/fixtures/worker-process.ts, killed with SIGKILL) and the
 * Temporal dev server (a persistent SQLite file, restarted on the same port).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDevServer, stopChild, type DevServer } from '../../src/dev/dev-server';
import type { EmulatorStats } from '../../src/emulator';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'src', 'cli', 'main.ts');
const WORKER_SCRIPT = path.join(ROOT, 'test', 'fixtures', 'worker-process.ts');

export interface EmulatorProcessOptions {
  port: number;
  apiKey: string;
  statePath: string;
  seed: number;
  timeScale: number;
  windowMs: number;
  latency: unknown;
  /** The `faults` object of src/emulator/config.ts; omitted = no faults. */
  faults?: unknown;
  logFile: string;
}

export interface EmulatorProcess {
  url: string;
  apiKey: string;
  stats(): Promise<EmulatorStats>;
  /** SIGTERM: the emulator writes its state file, then exits. */
  stop(): Promise<void>;
}

/** `sluice emulator` in a child process, through the real CLI; resolves once it answers. */
export async function startEmulatorProcess(o: EmulatorProcessOptions): Promise<EmulatorProcess> {
  const args = ['--import', 'tsx', CLI, 'emulator', '--port', String(o.port), '--api-key', o.apiKey, '--state', o.statePath];
  args.push('--seed', String(o.seed), '--time-scale', String(o.timeScale), '--window-ms', String(o.windowMs));
  args.push('--latency', JSON.stringify(o.latency));
  if (o.faults !== undefined) args.push('--faults', JSON.stringify(o.faults));
  const log = createWriteStream(o.logFile, { flags: 'a' });
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${o.port}`;
  const stats = async () => (await (await fetch(`${url}/_emulator/stats`)).json()) as EmulatorStats;
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`the emulator exited with code ${child.exitCode}; see ${o.logFile}`);
    try {
      await stats();
      break;
    } catch {
      if (tries > 300) throw new Error(`the emulator did not answer on ${url}; see ${o.logFile}`);
      await sleep(100);
    }
  }
  return {
    url,
    apiKey: o.apiKey,
    stats,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child, 10_000);
      log.end();
    },
  };
}

export interface WorkerEnv {
  temporalAddress: string;
  taskQueue: string;
  apiKey: string;
  baseURL: string;
  storeDir: string;
  bundlePath: string;
}

/**
 * One worker process at a time. `kill()` is SIGKILL; an exit nobody asked for (a worker giving up while the
 * server is down, say) is counted and the worker started again by `ensureRunning()`.
 */
export class WorkerProcesses {
  private child: ChildProcess | undefined;
  private expectedExit = false;
  private tail = '';
  started = 0;
  killed = 0;
  unplannedExits = 0;
  private readonly log: WriteStream;

  constructor(
    private readonly env: WorkerEnv,
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Recent output of the workers, for error messages. */
  output(): string {
    return this.tail;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
      cwd: ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: this.env.temporalAddress,
        TEMPORAL_NAMESPACE: 'default',
        SLUICE_TASK_QUEUE: this.env.taskQueue,
        ANTHROPIC_API_KEY: this.env.apiKey,
        ANTHROPIC_BASE_URL: this.env.baseURL,
        SLUICE_STORE_DIR: this.env.storeDir,
        SLUICE_WORKFLOW_BUNDLE: this.env.bundlePath,
        // The emulator lists a batch at once and answers within seconds: shorter waits than against the real API.
        SLUICE_CREATE_TIMEOUT_MS: '15000',
        SLUICE_RECONCILE_LIST_LAG_MS: '2000',
        SLUICE_RECONCILE_CLAIM_GRACE_MS: '5000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.expectedExit = false;
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    this.started++;
    let ready = false;
    const onData = (b: Buffer) => {
      const text = b.toString();
      this.log.write(text);
      this.tail = (this.tail + text).slice(-8_000);
      if (text.includes('worker ready')) ready = true;
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      this.log.write(`--- worker ${child.pid} exited (code ${code}, signal ${signal})\n`);
      if (!this.expectedExit && this.child === child) this.unplannedExits++;
    });
    const deadline = Date.now() + 60_000;
    while (!ready) {
      if (child.exitCode !== null) throw new Error(`the worker process exited at start:\n${this.tail}`);
      if (Date.now() > deadline) throw new Error(`the worker process did not start:\n${this.tail}`);
      await sleep(25);
    }
  }

  /** SIGKILL, and wait until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.expectedExit = true;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    this.killed++;
  }

  /** Starts a worker when none is running (after a kill, or an exit of its own). */
  async ensureRunning(): Promise<boolean> {
    if (this.running) return false;
    await this.start();
    return true;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && this.running) {
      this.expectedExit = true;
      await stopChild(child, 5_000);
    }
    this.log.end();
  }
}

export interface TemporalServerOptions {
  binary: string;
  port: number;
  dbFile: string;
  logFile: string;
}

/** The dev server on a fixed port with a persistent database, so workflows survive `restart()`. */
export class TemporalServer {
  private server: DevServer | undefined;
  restarts = 0;

  constructor(private readonly o: TemporalServerOptions) {}

  get address(): string {
    return `127.0.0.1:${this.o.port}`;
  }

  async start(): Promise<void> {
    this.server = await startDevServer({
      binary: this.o.binary,
      port: this.o.port,
      dbFile: this.o.dbFile,
      logFile: this.o.logFile,
      startTimeoutMs: 60_000,
    });
  }

  /** Stops the server (SIGTERM, SIGKILL after a grace period) and starts it again on the same port and file. */
  async restart(): Promise<void> {
    await this.server?.stop();
    // The port may take a moment to be free again.
    for (let tries = 0; ; tries++) {
      try {
        await this.start();
        break;
      } catch (err) {
        if (tries >= 20) throw err;
        await sleep(250);
      }
    }
    this.restarts++;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}
