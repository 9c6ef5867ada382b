/**
 * `sluice` command lines run in one child process for the whole test file (test/fixtures/cli-host.ts): each run
 * still gets its own exit code, stdout and stderr and its own environment, but the CLI is compiled and loaded once
 * rather than once per command line (a corpus of sixty files took minutes of tsx start-up alone).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

export interface HostedRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliHost {
  run(args: string[], env: Record<string, string | undefined>): Promise<HostedRun>;
  close(): Promise<void>;
}

const HOST_SCRIPT = path.join(__dirname, '..', 'fixtures', 'cli-host.ts');

export async function startCliHost(): Promise<CliHost> {
  const child: ChildProcess = fork(HOST_SCRIPT, [], {
    cwd: path.join(__dirname, '..', '..'),
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, (r: HostedRun) => void>();
  let nextId = 0;
  let ready: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  child.on('message', (m: { ready?: true; id?: number } & HostedRun) => {
    if (m.ready) return ready();
    waiting.get(m.id!)?.({ code: m.code, stdout: m.stdout, stderr: m.stderr });
    waiting.delete(m.id!);
  });
  const exited = once(child, 'exit');
  await Promise.race([started, exited.then(() => Promise.reject(new Error('the CLI host exited before it was ready')))]);
  return {
    run(args, env) {
      const id = nextId++;
      return new Promise<HostedRun>((resolve, reject) => {
        waiting.set(id, resolve);
        void exited.then(() => reject(new Error(`the CLI host exited during sluice ${args.join(' ')}`)));
        child.send({ id, args, env });
      });
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill();
        await exited;
      }
    },
  };
}
