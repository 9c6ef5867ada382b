/** The real `sluice` CLI in a child process, for tests of what a user sees: exit code and output. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');

export interface CliRun {
  code: number | null;
  out: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves when `pattern` appears in the output (rejects when the process ends first or after timeoutMs). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliRun>;
}

export function startSluice(args: string[], env: Record<string, string | undefined>, opts: { cwd?: string; stdin?: string } = {}): CliProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: childEnv,
    stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const done = new Promise<CliRun>((resolve) => child.on('close', (code) => resolve({ code, out })));
  return {
    child,
    output: () => out,
    done,
    waitFor: async (pattern, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      let ended = false;
      void done.then(() => (ended = true));
      while (!pattern.test(out)) {
        if (ended) throw new Error(`the CLI ended before ${pattern}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

export function sluice(args: string[], env: Record<string, string | undefined>, opts: { cwd?: string; stdin?: string } = {}): Promise<CliRun> {
  return startSluice(args, env, opts).done;
}
