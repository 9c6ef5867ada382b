/**
 * The production shape on one machine, without Docker: PostgreSQL holding Temporal's persistence, Temporal's SQL
 * visibility and Sluice's job store; the full Temporal server (not the dev server) with schemas set up by its SQL
 * tool; the namespace; `sluice setup`; the Web UI when its server builds; the codec server; N Sluice workers as
 * separate processes with payload encryption on; the emulator when no ANTHROPIC_API_KEY is given. The same steps
 * as docker-compose.yml (src/dev/cluster/setup-steps.ts).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { AesGcmCodec, parseCodecKeys } from '../../codec';
import { startCodecServer, type CodecServerHandle } from '../../codec/codec-server';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../emulator';
import { freePort } from '../dev-server';
import { requireTemporalCliPath } from '../temporal-cli';
import { ensureTemporalServer, ensureTemporalUiServer } from '../temporal-server';
import { startLocalPostgres, type LocalPostgres } from './local-postgres';
import type { PostgresTarget } from './server-config';
import { DEFAULT_SETUP_NAMES, setupSteps, type SetupStep } from './setup-steps';
import { ensureNamespace, freeLowPort, freeServerPorts, runSchemaSteps, startTemporalServer, waitForNamespace, type TemporalServerHandle } from './temporal-cluster';
import { startUiServer, type UiServerHandle } from './ui-server';
import { workerFleet, writeWorkflowBundle, type WorkerFleet } from './worker-fleet';

const exec = promisify(execFile);
const HOST = '127.0.0.1';
const REPO_ROOT = path.join(__dirname, '..', '..', '..');

export interface ProductionStackOptions {
  /** State: PostgreSQL data (when it runs its own), server config and logs, codec keys, the env file. */
  dir: string;
  /** An existing PostgreSQL to create the databases on (a superuser URL); omitted: a cluster of its own in dir. */
  postgresUrl?: string;
  /** Prefix of the three database names (tests use a fresh one per run). Default "". */
  databasePrefix?: string;
  namespace?: string;
  taskQueue?: string;
  workers?: number;
  /** With a key the real API is used and no emulator starts. */
  apiKey?: string;
  baseURL?: string;
  emulator?: EmulatorOptions;
  /** Start the Web UI (building its server once when needed). Default true. */
  ui?: boolean;
  /** Extra environment for the workers (tuning). */
  workerEnv?: Record<string, string>;
  log: (line: string) => void;
}

export interface ProductionStack {
  temporal: TemporalServerHandle;
  emulator?: EmulatorHandle;
  codecServer: CodecServerHandle;
  ui?: UiServerHandle;
  fleet: WorkerFleet;
  /** What a CLI in another terminal needs (also written to envFile as shell assignments). */
  env: Record<string, string>;
  envFile: string;
  /** `sluice setup`'s output, as run by the stack. */
  setupOutput: string;
  stop(): Promise<void>;
}

export async function startProductionStack(o: ProductionStackOptions): Promise<ProductionStack> {
  const log = o.log;
  const dir = path.resolve(o.dir);
  await mkdir(dir, { recursive: true });
  const prefix = o.databasePrefix ?? '';
  const names = { ...DEFAULT_SETUP_NAMES, namespace: o.namespace ?? 'default', temporalDatabase: `${prefix}temporal`, visibilityDatabase: `${prefix}temporal_visibility` };
  const storeDatabase = `${prefix}sluice`;
  const taskQueue = o.taskQueue ?? 'sluice';
  const steps = setupSteps(names);
  const cleanup: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of cleanup.reverse()) await fn().catch((err: unknown) => log(`while stopping: ${(err as Error).message}`));
    cleanup.length = 0;
  };
  try {
    log('Building or finding the Temporal server, its SQL tool and the CLI...');
    const bins = await ensureTemporalServer({ log });
    const cli = await requireTemporalCliPath({ log });

    let local: LocalPostgres | undefined;
    let adminUrl = o.postgresUrl;
    if (!adminUrl) {
      const portFile = path.join(dir, 'postgres', 'port');
      const port = existsSync(portFile) ? Number(await readFile(portFile, 'utf8')) : await freeLowPort(HOST);
      local = await startLocalPostgres(path.join(dir, 'postgres'), port, log);
      await writeFile(portFile, String(port));
      cleanup.push(() => local!.stop());
      adminUrl = local.adminUrl;
    }
    const target = postgresTarget(adminUrl);
    await createDatabase(adminUrl, storeDatabase);
    const storeUrl = withDatabase(adminUrl, storeDatabase);

    log('Temporal schemas (temporal-sql-tool):');
    await runSchemaSteps(bins.sqlTool, target, steps, log);

    const ports = await freeServerPorts(HOST);
    const address = `${HOST}:${ports.frontend}`;
    const temporal = await startTemporalServer({
      binary: bins.server,
      dir: path.join(dir, 'temporal'),
      host: HOST,
      ports,
      postgres: target,
      temporalDatabase: names.temporalDatabase,
      visibilityDatabase: names.visibilityDatabase,
      connect: { address },
    });
    cleanup.push(() => temporal.stop());
    log(`Temporal server on ${address} (PostgreSQL ${target.host}:${target.port}, databases ${names.temporalDatabase}, ${names.visibilityDatabase})`);

    const nsStep = steps.find((s): s is SetupStep & { tool: 'temporal' } => s.tool === 'temporal')!;
    log(`Namespace ${names.namespace}: ${await ensureNamespace(cli, address, nsStep)}`);
    await waitForNamespace({ address }, names.namespace);

    let emulator: EmulatorHandle | undefined;
    let apiKey = o.apiKey;
    let baseURL = o.baseURL;
    if (!apiKey) {
      emulator = await startEmulator({ timeScale: 0.01, ...o.emulator, statePath: path.join(dir, 'emulator-state.json') });
      cleanup.push(() => emulator!.close());
      apiKey = emulator.apiKey;
      baseURL = emulator.url;
      log(`No ANTHROPIC_API_KEY: the Message Batches EMULATOR answers on ${emulator.url} (nothing reaches Anthropic, nothing is paid).`);
    }

    const codecKeys = await codecKeysIn(dir);
    // The codec server listens on loopback and answers the stack's Web UI only; the UI's browser sends no bearer
    // token, so it runs without one, on purpose (the production answer is a proxy in front: docs/production.md).
    const uiPort = o.ui !== false ? await freePort(HOST) : undefined;
    const codecServer = await startCodecServer({
      codec: new AesGcmCodec(parseCodecKeys(codecKeys)),
      port: 0,
      host: HOST,
      allowedOrigins: uiPort === undefined ? [] : [`http://${HOST}:${uiPort}`],
      noAuth: true,
      log,
    });
    cleanup.push(() => codecServer.close());

    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: names.namespace,
      SLUICE_TASK_QUEUE: taskQueue,
      SLUICE_STORE: storeUrl,
      SLUICE_CODEC_KEYS: codecKeys,
      ...(emulator ? { ANTHROPIC_BASE_URL: emulator.url, ANTHROPIC_API_KEY: emulator.apiKey } : baseURL ? { ANTHROPIC_BASE_URL: baseURL } : {}),
    };

    // `sluice setup` exactly as an operator runs it: a separate process, configured by the environment.
    const setupOutput = await runSluice(['setup'], { ...process.env, ...env });
    for (const line of setupOutput.trim().split('\n')) log(`  ${line}`);

    let ui: UiServerHandle | undefined;
    if (o.ui !== false) {
      const uiBinary = await ensureTemporalUiServer({ log });
      if (uiBinary) {
        ui = await startUiServer({ binary: uiBinary, dir: path.join(dir, 'ui'), host: HOST, port: uiPort ?? (await freePort(HOST)), temporalAddress: address, namespace: names.namespace, codecEndpoint: codecServer.url });
        cleanup.push(() => ui!.stop());
        env.SLUICE_WEB_UI = ui.url;
      }
    }

    const bundle = await writeWorkflowBundle(path.join(dir, 'workflows.js'));
    const logDir = path.join(dir, 'logs');
    await mkdir(logDir, { recursive: true });
    const fleet = workerFleet({ ...process.env, ...env, ANTHROPIC_API_KEY: apiKey, ...(baseURL ? { ANTHROPIC_BASE_URL: baseURL } : {}), SLUICE_WORKFLOW_BUNDLE: bundle, ...o.workerEnv }, logDir);
    cleanup.push(() => fleet.stopAll());
    const count = o.workers ?? 3;
    await Promise.all(Array.from({ length: count }, () => fleet.start()));
    await waitForPollers(address, names.namespace, taskQueue, count);
    log(`${count} Sluice workers polling ${taskQueue} (pids ${fleet.workers.map((w) => w.child.pid).join(', ')}), payload encryption on`);

    const envFile = path.join(dir, 'env');
    // The emulator's key is not a secret; a real ANTHROPIC_API_KEY is never written to the file.
    await writeFile(envFile, Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`).join('\n') + '\n', { mode: 0o600 });
    return { temporal, emulator, codecServer, ui, fleet, env, envFile, setupOutput, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function runSluice(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return exec(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: REPO_ROOT, env }).then(
    (r) => r.stdout,
    (err: { stdout?: string; stderr?: string }) => {
      throw new Error(`sluice ${args.join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    },
  );
}

async function waitForPollers(address: string, namespace: string, taskQueue: string, count: number): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType: 1 });
      if ((res.pollers?.length ?? 0) >= count) return;
      if (Date.now() > deadline) throw new Error(`only ${res.pollers?.length ?? 0} of ${count} workers poll ${taskQueue}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await connection.close();
  }
}

/** The stack's codec key, made once and kept in dir (without it no stored payload can be read again). */
async function codecKeysIn(dir: string): Promise<string> {
  const file = path.join(dir, 'codec-keys');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const keys = `stack1:${randomBytes(32).toString('base64')}`;
  await writeFile(file, keys + '\n', { mode: 0o600 });
  return keys;
}

function postgresTarget(url: string): PostgresTarget {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function createDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

function shellQuote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

