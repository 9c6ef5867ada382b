/**
 * The full Temporal server and its SQL schema tool, built from their Go module once per machine (same cache
 * and lock as the CLI build). The production-shaped stack runs these on PostgreSQL instead of the dev server.
 * Both build with plain `go install` (no replace directives in go.temporal.io/server v1.29.1).
 */
import path from 'node:path';
import { GoBuildError, goInstallWithLock, isExecutable, sluiceCacheDir, whichOnPath } from './go-build';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const SERVER_PKG = 'go.temporal.io/server/cmd/server';
const SQL_TOOL_PKG = 'go.temporal.io/server/cmd/tools/sql';
/** The Web UI server (UI assets embedded with go:embed), the version the CLI v1.5.1 bundles. */
export const TEMPORAL_UI_VERSION = 'v2.42.1';
const UI_SERVER_PKG = 'github.com/temporalio/ui-server/v2/cmd/server';

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
  /** True when this call built at least one of them. */
  built: boolean;
}

export function cachedServerDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(sluiceCacheDir(env), 'temporal-server', TEMPORAL_SERVER_VERSION);
}

/** $TEMPORAL_SERVER_BIN / $TEMPORAL_SQL_TOOL_BIN when set, else the cached builds (building them when missing). */
export async function ensureTemporalServer(
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<TemporalServerBinaries> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const dir = cachedServerDir(env);
  const wanted = [
    { envName: 'TEMPORAL_SERVER_BIN', pkg: SERVER_PKG, binName: 'server', target: path.join(dir, 'temporal-server'), label: 'the Temporal server' },
    { envName: 'TEMPORAL_SQL_TOOL_BIN', pkg: SQL_TOOL_PKG, binName: 'sql', target: path.join(dir, 'temporal-sql-tool'), label: "Temporal's SQL schema tool" },
  ];
  const paths: string[] = [];
  let built = false;
  for (const w of wanted) {
    const fromEnv = env[w.envName];
    if (fromEnv) {
      const p = path.resolve(fromEnv);
      if (!(await isExecutable(p))) throw new GoBuildError(`${w.envName}=${p} is not an executable file`);
      paths.push(p);
      continue;
    }
    if (!(await isExecutable(w.target))) {
      const go = await whichOnPath('go', env);
      if (!go) throw new GoBuildError(`${w.label} is not built and there is no Go toolchain (1.25+) on PATH to build it`);
      built = (await goInstallWithLock(go, { ...w, version: TEMPORAL_SERVER_VERSION }, env, log)) || built;
    }
    paths.push(w.target);
  }
  const [server, sqlTool] = paths as [string, string];
  return { server, sqlTool, built };
}

/**
 * The Web UI server, built once per machine; undefined (with the reason logged) when it cannot be built here,
 * since the stack runs without a UI rather than not at all.
 */
export async function ensureTemporalUiServer(
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<string | undefined> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  if (env.TEMPORAL_UI_SERVER_BIN) return path.resolve(env.TEMPORAL_UI_SERVER_BIN);
  const target = path.join(sluiceCacheDir(env), 'temporal-ui-server', TEMPORAL_UI_VERSION, 'temporal-ui-server');
  if (await isExecutable(target)) return target;
  const go = await whichOnPath('go', env);
  if (!go) {
    log('No Web UI: the UI server is not built and there is no Go toolchain to build it.');
    return undefined;
  }
  try {
    await goInstallWithLock(go, { pkg: UI_SERVER_PKG, version: TEMPORAL_UI_VERSION, binName: 'server', target, label: 'the Temporal Web UI server' }, env, log);
    return target;
  } catch (err) {
    log(`No Web UI: the UI server did not build (${(err as Error).message.split('\n')[0]}).`);
    return undefined;
  }
}
