/**
 * Starts `temporal server start-dev` as a child process and waits until its frontend answers. Used by the
 * embedded stack (`npm start`, `sluice dev`) and the chaos harness, which need a persistent SQLite file and a
 * server that can be restarted; tests use @temporalio/testing with the same binary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../workflows/search-attributes';

export interface DevServerOptions {
  binary: string;
  /** SQLite file that keeps workflows across restarts; omitted = in memory. */
  dbFile?: string;
  host?: string;
  port: number;
  /** Web UI port; omitted = headless. */
  uiPort?: number;
  namespace?: string;
  /** How long to wait for the frontend; a cold start with a large SQLite file can take a few seconds. */
  startTimeoutMs?: number;
  /** Where the server's own log lines go (default: discarded, they are noisy). */
  logFile?: string;
  /** Dynamic config values on top of DEV_SERVER_DYNAMIC_CONFIG. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** SQLite pragmas for the file (dbFile), on top of DEV_SERVER_SQLITE_PRAGMAS. */
  sqlitePragmas?: Record<string, string>;
}

/**
 * Write-ahead logging: a commit appends to the log instead of rewriting pages and a rollback journal, and with
 * synchronous=NORMAL it is not flushed to disk on every commit. A commit survives the server process dying (what
 * `sluice dev` and the chaos harness do to it); only a crash of the machine itself may lose the last ones.
 */
export const DEV_SERVER_SQLITE_PRAGMAS: Record<string, string> = { journal_mode: 'wal', synchronous: 'normal' };

/**
 * - Activities scheduled by a workflow task go straight to the worker that completed it when it has a free slot
 *   (eager dispatch): no round trip through matching for each submit and collect. Off by default in the server.
 * - The history service reads due timers up to `timerProcessorMaxTimeShift` late (1 s by default), so every timer
 *   shorter than a second fired after about a second: a job polling every 250 ms in compressed time, or a test's
 *   200 ms poll, waited four to five times as long. At 50 ms a 250 ms timer fires after 270-290 ms; an idle server's
 *   CPU did not move. At real cadences (seconds to minutes) the default is harmless, so clusters keep it.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, string | number | boolean> = {
  'system.enableActivityEagerExecution': true,
  'history.timerProcessorMaxTimeShift': '50ms',
};

/** `--dynamic-config-value K=V` flags for the dev server. */
export function dynamicConfigFlags(values: Record<string, string | number | boolean> = {}): string[] {
  return Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...values }).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${JSON.stringify(v)}`]);
}

/** `--sqlite-pragma K=V` flags for the dev server's SQLite file. */
export function sqlitePragmaFlags(values: Record<string, string> = {}): string[] {
  return Object.entries({ ...DEV_SERVER_SQLITE_PRAGMAS, ...values }).flatMap(([k, v]) => ['--sqlite-pragma', `${k}=${v}`]);
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  namespace: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const host = options.host ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', host, '--port', String(options.port), '--namespace', namespace];
  args.push(...searchAttributeFlags(), ...dynamicConfigFlags(options.dynamicConfig), '--log-level', 'error');
  if (options.dbFile) {
    await mkdir(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
    args.push(...sqlitePragmaFlags(options.sqlitePragmas));
  }
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');

  for (const port of [options.port, options.uiPort]) {
    if (port && !(await isPortFree(host, port))) {
      throw new Error(`Port ${port} on ${host} is in use: stop what holds it or choose another port.`);
    }
  }

  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const address = `${host}:${options.port}`;
  try {
    await waitForFrontend(address, namespace, child, options.startTimeoutMs ?? 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`The Temporal dev server did not start: ${(err as Error).message}\n${output}`, { cause: err });
  }
  return {
    address,
    namespace,
    uiUrl: options.uiPort ? `http://${host}:${options.uiPort}` : undefined,
    pid: child.pid!,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child);
    },
  };
}

async function waitForFrontend(address: string, namespace: string, child: ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`no answer on ${address} within ${timeoutMs} ms (${String(lastError)})`);
}

/** SIGTERM, then SIGKILL if the server has not exited after a grace period. */
export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A free TCP port chosen by the OS. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
