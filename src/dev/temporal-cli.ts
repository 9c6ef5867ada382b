/**
 * Finds a `temporal` CLI binary (dev server + Web UI) without downloading anything outside the package
 * registries. Order: $TEMPORAL_CLI, `temporal` on PATH, a build cached once per machine from the CLI's Go
 * module, and only where there is no Go toolchain the Temporal SDK's own cached download.
 *
 * v1.5.1 is the newest CLI whose go.mod has no `replace` directive, so `go install pkg@version` works;
 * it bundles Temporal Server 1.29 and the Web UI (embedded through go:embed, no npm build).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { goInstallWithLock, isExecutable, sluiceCacheDir, whichOnPath } from './go-build';

export { sluiceCacheDir } from './go-build';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

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
  await goInstallWithLock(
    go,
    { pkg: TEMPORAL_CLI_MODULE, version: TEMPORAL_CLI_VERSION, binName: 'temporal', target: cached, label: 'the Temporal CLI' },
    env,
    log,
  );
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

/** Version line of a binary, for logs and notes. */
export async function temporalCliVersion(binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, ['--version']);
  return stdout.trim();
}
