/**
 * Runs the full Temporal server (not the dev server) as a child process on PostgreSQL: schemas through
 * Temporal's SQL tool, the server from a generated config, the namespace through the temporal CLI. Restartable,
 * so tests can take the server away mid-job.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import type { TemporalConnectionOptions } from '../../temporal/connection';
import { isPortFree, stopChild } from '../dev-server';
import { dynamicConfigYaml, SERVER_PORT_NAMES, serverConfigYaml, type ServerConfigOptions, type ServerPorts, type PostgresTarget } from './server-config';
import type { SetupStep } from './setup-steps';

const exec = promisify(execFile);

/**
 * Free ports for every service. Below 32768: Temporal stores membership ports in a PostgreSQL smallint, and
 * Linux hands out ephemeral ports from 32768 up, so a port there could be taken by an outgoing connection.
 */
export async function freeServerPorts(host: string): Promise<ServerPorts> {
  const ports: Partial<ServerPorts> = {};
  const taken = new Set<number>();
  for (const name of SERVER_PORT_NAMES) {
    const port = await freeLowPort(host, taken);
    taken.add(port);
    ports[name] = port;
  }
  return ports as ServerPorts;
}

/** A free port in 10000-31999 (below Linux's ephemeral range), not in `taken`. */
export async function freeLowPort(host: string, taken: Set<number> = new Set()): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (!taken.has(port) && (await isPortFree(host, port))) return port;
  }
}

/** Runs the schema steps with Temporal's SQL tool; a database that already exists keeps its schema (update only). */
export async function runSchemaSteps(sqlTool: string, pg: PostgresTarget, steps: SetupStep[], log: (l: string) => void): Promise<void> {
  const connection = ['--plugin', 'postgres12', '--ep', pg.host, '-p', String(pg.port), '-u', pg.user, '--pw', pg.password];
  let created = false;
  for (const step of steps) {
    if (step.tool !== 'temporal-sql-tool') continue;
    if (step.ifCreated && !created) continue;
    try {
      await exec(sqlTool, [...connection, ...step.args]);
      if (step.args.includes('create-database')) created = true;
    } catch (err) {
      const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
      if (step.args.includes('create-database') && /already exists/i.test(out)) {
        created = false;
        continue;
      }
      throw new Error(`temporal-sql-tool ${step.args.join(' ')} failed:\n${out.slice(-2_000)}`, { cause: err });
    }
    log(`  temporal-sql-tool ${step.args.join(' ')}`);
  }
}

export interface TemporalServerHandle {
  address: string;
  ports: ServerPorts;
  pid(): number;
  /** Stops (SIGTERM, then SIGKILL) and starts again with the same config and ports. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartServerOptions extends Omit<ServerConfigOptions, 'logFile' | 'dynamicConfigFile'> {
  binary: string;
  /** Root directory: config/, logs. */
  dir: string;
  /** How to reach the frontend to check it is up (TLS options when the frontend has TLS). */
  connect: TemporalConnectionOptions;
  startTimeoutMs?: number;
}

export async function startTemporalServer(o: StartServerOptions): Promise<TemporalServerHandle> {
  const configDir = path.join(o.dir, 'config');
  await mkdir(path.join(configDir, 'dynamicconfig'), { recursive: true });
  const logFile = path.join(o.dir, 'temporal-server.log');
  const dynamicConfigFile = path.join(configDir, 'dynamicconfig', 'sluice.yaml');
  await writeFile(dynamicConfigFile, dynamicConfigYaml());
  await writeFile(path.join(configDir, 'development.yaml'), serverConfigYaml({ ...o, logFile, dynamicConfigFile }));
  const address = `${o.host}:${o.ports.frontend}`;

  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  process.on('exit', killOnExit);
  const start = async () => {
    const c = spawn(o.binary, ['--root', o.dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    c.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4_000)));
    child = c;
    try {
      await waitForServer(o.connect, c, o.startTimeoutMs ?? 60_000);
    } catch (err) {
      c.kill('SIGKILL');
      throw new Error(`The Temporal server did not start: ${(err as Error).message}\n${stderr}\n(log: ${logFile})`, { cause: err });
    }
  };
  await start();
  return {
    address,
    ports: o.ports,
    pid: () => child?.pid ?? -1,
    restart: async () => {
      if (child) await stopChild(child, 10_000);
      await start();
    },
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child) await stopChild(child, 10_000);
    },
  };
}

async function waitForServer(connect: TemporalConnectionOptions, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ ...connect, connectTimeout: 1_000 });
      try {
        // The system namespace answers once history and matching have joined the ring.
        await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`no answer within ${timeoutMs} ms (${String(lastError)})`);
}

/** The namespace step: `temporal operator namespace create` unless `describe` finds it. */
export async function ensureNamespace(cli: string, address: string, step: SetupStep & { tool: 'temporal' }): Promise<'created' | 'exists'> {
  const i = step.args.indexOf('--namespace');
  const namespace = step.args[i + 1]!;
  try {
    await exec(cli, ['operator', 'namespace', 'describe', '--namespace', namespace, '--address', address]);
    return 'exists';
  } catch {
    await exec(cli, [...step.args, '--address', address]);
    return 'created';
  }
}

/** Waits until the frontend serves the namespace (its namespace cache refreshes every few seconds). */
export async function waitForNamespace(connect: TemporalConnectionOptions, namespace: string, timeoutMs = 30_000): Promise<void> {
  const connection = await Connection.connect({ ...connect, connectTimeout: 2_000 });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await connection.close();
  }
}
