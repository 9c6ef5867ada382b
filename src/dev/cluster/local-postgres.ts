/**
 * A PostgreSQL cluster of its own for `npm run stack`, from the Debian package's binaries (no Docker): created once
 * under the stack's directory, listening on loopback only, trust authentication for the local role. Kept across
 * runs, so jobs survive a restart of the stack. As root, it runs as the `postgres` user (PostgreSQL refuses root).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const LOCAL_PG_ROLE = 'sluice';

export interface LocalPostgres {
  host: string;
  port: number;
  user: string;
  /** postgres://sluice@127.0.0.1:PORT/postgres: for creating the stack's databases. */
  adminUrl: string;
  stop(): Promise<void>;
}

async function binDir(): Promise<string> {
  if (process.env.SLUICE_PG_BINDIR) return process.env.SLUICE_PG_BINDIR;
  const versions = (await readdir('/usr/lib/postgresql').catch(() => [] as string[])).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)) return `/usr/lib/postgresql/${v}/bin`;
  throw new Error('No PostgreSQL server binaries: apt-get install -y postgresql (or set SLUICE_PG_BINDIR)');
}

export async function startLocalPostgres(dir: string, port: number, log: (l: string) => void): Promise<LocalPostgres> {
  const bin = await binDir();
  const root = process.getuid?.() === 0;
  const asOwner = (cmd: string, args: string[]) => (root ? exec('runuser', ['-u', 'postgres', '--', cmd, ...args]) : exec(cmd, args));
  const data = path.join(dir, 'data');
  await mkdir(dir, { recursive: true });
  if (root) {
    const { stdout } = await exec('id', ['-u', 'postgres']);
    const { stdout: gid } = await exec('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  if (!existsSync(path.join(data, 'PG_VERSION'))) {
    log(`  initdb ${data}`);
    await asOwner(path.join(bin, 'initdb'), ['-D', data, '-U', LOCAL_PG_ROLE, '--auth=trust', '--encoding=UTF8', '--no-locale']);
  }
  log(`  PostgreSQL on 127.0.0.1:${port}`);
  await asOwner(path.join(bin, 'pg_ctl'), [
    '-D', data, '-l', path.join(dir, 'postgres.log'), '-w', '-t', '60', 'start',
    '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300`,
  ]);
  return {
    host: '127.0.0.1',
    port,
    user: LOCAL_PG_ROLE,
    adminUrl: `postgres://${LOCAL_PG_ROLE}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await asOwner(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
  };
}
