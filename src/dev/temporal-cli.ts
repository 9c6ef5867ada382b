/**
 * Finds a `temporal` CLI binary (dev server + Web UI) without downloading anything outside the package
 * registries. Order: $TEMPORAL_CLI, `temporal` on PATH, a build cached once per machine from the CLI's Go
 * module, and only where there is no Go toolchain the Temporal SDK's own cached download.
 *
 * v1.5.1 is the newest CLI whose go.mod has no `replace` directive, so `go install pkg@version` works;
 * it bundles Temporal Server 1.29 and the Web UI (embedded through go:embed, no npm build).
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
const LOCK_POLL_MS = 1_000;
const LOCK_STALE_MS = 30 * 60_000;

export type TemporalCli =
  | { kind: 'path'; path: string; source: 'env' | 'path' | 'cache' | 'built' }
  /** No binary and no Go: let @temporalio/testing download its own (needs the internet). */
  | { kind: 'sdk-download' };

export interface FindTemporalCliOptions {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Build with Go when nothing is found (default true). */
  build?: boolean;
  /** Progress lines for a human; the build takes minutes on 2 cores. */
  log?: (line: string) => void;
}

export class TemporalCliError extends Error {
  override name = 'TemporalCliError';
}

/** Where Sluice keeps per-machine caches: $SLUICE_CACHE_DIR, else $XDG_CACHE_HOME/sluice, else ~/.cache/sluice. */
export function sluiceCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SLUICE_CACHE_DIR) return path.resolve(env.SLUICE_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'sluice');
}

export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(sluiceCacheDir(env), 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
}

export async function findTemporalCli(options: FindTemporalCliOptions = {}): Promise<TemporalCli> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});

  if (env.TEMPORAL_CLI) {
    const p = path.resolve(env.TEMPORAL_CLI);
    if (!(await isExecutable(p))) throw new TemporalCliError(`TEMPORAL_CLI=${p} is not an executable file`);
    return { kind: 'path', path: p, source: 'env' };
  }
  const onPath = await whichOnPath('temporal', env);
  if (onPath) return { kind: 'path', path: onPath, source: 'path' };

  const cached = cachedCliPath(env);
  if (await isExecutable(cached)) return { kind: 'path', path: cached, source: 'cache' };
  if (options.build === false) return { kind: 'sdk-download' };

  const go = await whichOnPath('go', env);
  if (!go) {
    log('No temporal binary and no Go toolchain: falling back to the Temporal SDK download (needs the internet).');
    return { kind: 'sdk-download' };
  }
  await buildWithLock(go, cached, env, log);
  return { kind: 'path', path: cached, source: 'built' };
}

/** Like findTemporalCli, but insists on a local binary (the dev stack spawns it itself). */
export async function requireTemporalCliPath(options: FindTemporalCliOptions = {}): Promise<string> {
  const cli = await findTemporalCli(options);
  if (cli.kind === 'path') return cli.path;
  throw new TemporalCliError(
    'No Temporal CLI found: set TEMPORAL_CLI, put `temporal` on PATH, or install Go (1.25+) so Sluice can build it.',
  );
}

async function buildWithLock(go: string, target: string, env: NodeJS.ProcessEnv, log: (l: string) => void) {
  const dir = path.dirname(target);
  await mkdir(dir, { recursive: true });
  const lock = path.join(dir, '.build.lock');
  await acquireLock(lock, log);
  try {
    // Another process may have finished the build while we waited for the lock.
    if (await isExecutable(target)) return;
    const gobin = path.join(dir, `.gobin-${process.pid}`);
    await rm(gobin, { recursive: true, force: true });
    log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go (once per machine; a few minutes)...`);
    const started = Date.now();
    await run(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      ...env,
      CGO_ENABLED: '0',
      GOTOOLCHAIN: 'local',
      GOBIN: gobin,
    });
    await rename(path.join(gobin, 'temporal'), target);
    await rm(gobin, { recursive: true, force: true });
    log(`Built the Temporal CLI in ${((Date.now() - started) / 1000).toFixed(0)} s: ${target}`);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** A directory lock (mkdir is atomic) holding the owner's pid; a lock whose owner died is taken over. */
async function acquireLock(lock: string, log: (l: string) => void): Promise<void> {
  let announced = false;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(path.join(lock, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStaleLock(lock)) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (!announced) log('Another process is building the Temporal CLI; waiting for it...');
    announced = true;
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
}

async function isStaleLock(lock: string): Promise<boolean> {
  try {
    const pid = Number(await readFile(path.join(lock, 'pid'), 'utf8'));
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        return false;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }
  } catch {
    // No pid yet: the owner is between mkdir and writeFile, unless the lock is very old.
  }
  try {
    return Date.now() - (await stat(lock)).mtimeMs > LOCK_STALE_MS;
  } catch {
    return true;
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8_000);
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new TemporalCliError(`${cmd} ${args.join(' ')} failed with exit code ${code}:\n${stderr}`)),
    );
  });
}

async function isExecutable(p: string): Promise<boolean> {
  try {
    await access(p, fsConstants.X_OK);
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function whichOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Version line of a binary, for logs and notes. */
export async function temporalCliVersion(binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, ['--version']);
  return stdout.trim();
}
