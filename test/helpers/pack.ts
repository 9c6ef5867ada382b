/**
 * Packs the repository as npm would publish it and installs the tarball into a fresh project, the way a user's
 * project depends on Sluice. The install works offline: the new project's lockfile is cut from the repository's own
 * (the same versions, so every tarball is already in the machine's npm cache), plus the packed tarball itself.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_ROOT = path.join(__dirname, '..', '..');

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  [field: string]: unknown;
}
interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  overrides?: Record<string, string>;
  [field: string]: unknown;
}

/** `npm pack` (its prepack script builds lib/) into a new directory; returns the tarball's path. */
export async function packRepository(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-pack-'));
  await run('npm', ['pack', '--pack-destination', dir, '--no-audit', '--no-fund'], { cwd: REPO_ROOT, maxBuffer: 16 << 20 });
  const [tarball] = (await readdir(dir)).filter((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${dir}`);
  return path.join(dir, tarball);
}

/**
 * Copies `exampleDir` (a project with its own package.json) into a new directory, adds the tarball as its
 * `sluice` dependency and installs it all with `npm ci --offline`. Returns the project's directory.
 */
export async function installIntoFreshProject(exampleDir: string, tarball: string): Promise<string> {
  const project = await mkdtemp(path.join(os.tmpdir(), 'sluice-user-project-'));
  await cp(exampleDir, project, { recursive: true, filter: (src) => !/[/\\](node_modules|dist)$/.test(src) });
  await cp(tarball, path.join(project, path.basename(tarball)));
  const repoPkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
  const repoLock = JSON.parse(await readFile(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const pkg = JSON.parse(await readFile(path.join(exampleDir, 'package.json'), 'utf8')) as PackageJson;
  pkg.dependencies = { ...pkg.dependencies, [repoPkg.name]: `file:${path.basename(tarball)}` };
  // The repository's pins (see its package.json) hold for any project that installs Sluice.
  pkg.overrides = { ...repoPkg.overrides, ...pkg.overrides };
  const integrity = 'sha512-' + createHash('sha512').update(await readFile(tarball)).digest('base64');
  const { stdout: registry } = await run('npm', ['config', 'get', 'registry'], { cwd: REPO_ROOT });
  const lock = projectLockfile(pkg, repoPkg, repoLock.packages, path.basename(tarball), integrity, registry.trim());
  await writeFile(path.join(project, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  await writeFile(path.join(project, 'package-lock.json'), JSON.stringify(lock, null, 2) + '\n');
  // Scripts off: the three install scripts the repository denies too (swc, esbuild, protobufjs) are optional checks.
  await run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project, maxBuffer: 16 << 20 });
  return project;
}

/** The project's lockfile: its root, the tarball, and every package of the repository's lockfile they reach. */
function projectLockfile(
  pkg: PackageJson,
  repoPkg: PackageJson,
  repoPackages: Record<string, LockEntry>,
  tarballName: string,
  integrity: string,
  registry: string,
): object {
  const sluice: LockEntry = {
    version: repoPkg.version,
    resolved: `file:${tarballName}`,
    integrity,
    license: repoPkg.license,
    dependencies: repoPkg.dependencies,
    bin: repoPkg.bin,
    engines: repoPkg.engines,
  };
  const root: LockEntry = { name: pkg.name, version: pkg.version, dependencies: pkg.dependencies, devDependencies: pkg.devDependencies };
  const packages: Record<string, LockEntry> = { '': root, [`node_modules/${repoPkg.name}`]: sluice };
  const lookup = (at: string, name: string): string | undefined => {
    // Node's resolution over lockfile paths: the nearest node_modules/<name> from `at` up to the root.
    for (let dir = at; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const key = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (key in repoPackages || key in packages) return key;
      if (dir === '') return undefined;
    }
  };
  const queue: string[] = ['', `node_modules/${repoPkg.name}`];
  while (queue.length > 0) {
    const at = queue.shift()!;
    const entry = packages[at]!;
    const wanted = { ...entry.dependencies, ...entry.optionalDependencies, ...(at === '' ? pkg.devDependencies : {}), ...entry.peerDependencies };
    for (const name of Object.keys(wanted)) {
      // The tarball's own dependencies resolve as they do in the repository (hoisted to the top).
      const key = lookup(at === `node_modules/${repoPkg.name}` ? '' : at, name);
      if (key === undefined) {
        const optional = name in (entry.optionalDependencies ?? {}) || entry.peerDependenciesMeta?.[name]?.optional;
        if (optional || name in (entry.peerDependencies ?? {})) continue;
        throw new Error(`${name} (needed by ${at || 'the project'}) is not in the repository's lockfile`);
      }
      if (key in packages) continue;
      const { dev: _dev, devOptional: _devOptional, ...kept } = repoPackages[key]!;
      // With its tarball's address and integrity an entry installs from the cache alone (no registry metadata).
      packages[key] = { resolved: tarballUrl(registry, packageName(key), kept.version!), ...kept };
      queue.push(key);
    }
  }
  return { name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages };
}

/** `node_modules/a/node_modules/@s/b` → `@s/b`. */
function packageName(key: string): string {
  return key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** Where a registry keeps a version's tarball: <registry>/<name>/-/<name without scope>-<version>.tgz. */
function tarballUrl(registry: string, name: string, version: string): string {
  const base = registry.endsWith('/') ? registry : `${registry}/`;
  return `${base}${name}/-/${name.split('/').pop()}-${version}.tgz`;
}
