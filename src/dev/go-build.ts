/**
 * Builds a Go binary once per machine into Sluice's cache (outside the repo), under a directory lock so
 * parallel processes (tests, CI steps, several terminals) build it once and the others wait.
 * Used for the Temporal CLI and for the full Temporal server and its SQL schema tool.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const LOCK_POLL_MS = 1_000;
const LOCK_STALE_MS = 30 * 60_000;

export class GoBuildError extends Error {
  override name = 'GoBuildError';
}

/** Where Sluice keeps per-machine caches: $SLUICE_CACHE_DIR, else $XDG_CACHE_HOME/sluice, else ~/.cache/sluice. */
export function sluiceCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SLUICE_CACHE_DIR) return path.resolve(env.SLUICE_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'sluice');
}

export interface GoInstall {
  /** Module package path, e.g. go.temporal.io/server/cmd/server. */
  pkg: string;
  version: string;
  /** Name `go install` gives the binary (the last element of pkg). */
  binName: string;
  /** Where the binary is kept. */
  target: string;
  /** What to call it in progress lines. */
  label: string;
}

/** Builds `install.target` unless it exists; returns true when this call built it. */
export async function goInstallWithLock(
  go: string,
  install: GoInstall,
  env: NodeJS.ProcessEnv,
  log: (l: string) => void,
): Promise<boolean> {
  const dir = path.dirname(install.target);
  await mkdir(dir, { recursive: true });
  const lock = path.join(dir, `.build-${path.basename(install.target)}.lock`);
  await acquireLock(lock, install.label, log);
  try {
    // Another process may have finished the build while we waited for the lock.
    if (await isExecutable(install.target)) return false;
    const gobin = path.join(dir, `.gobin-${path.basename(install.target)}-${process.pid}`);
    await rm(gobin, { recursive: true, force: true });
    log(`Building ${install.label} ${install.version} with Go (once per machine; a few minutes)...`);
    const started = Date.now();
    await run(go, ['install', `${install.pkg}@${install.version}`], {
      ...env,
      CGO_ENABLED: '0',
      GOTOOLCHAIN: 'local',
      GOBIN: gobin,
    });
    await rename(path.join(gobin, install.binName), install.target);
    await rm(gobin, { recursive: true, force: true });
    log(`Built ${install.label} in ${((Date.now() - started) / 1000).toFixed(0)} s: ${install.target}`);
    return true;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** A directory lock (mkdir is atomic) holding the owner's pid; a lock whose owner died is taken over. */
export async function acquireLock(lock: string, what: string, log: (l: string) => void): Promise<void> {
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
    if (!announced) log(`Another process is building ${what}; waiting for it...`);
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
      code === 0 ? resolve() : reject(new GoBuildError(`${cmd} ${args.join(' ')} failed with exit code ${code}:\n${stderr}`)),
    );
  });
}

export async function isExecutable(p: string): Promise<boolean> {
  try {
    await access(p, fsConstants.X_OK);
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

export async function whichOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}
