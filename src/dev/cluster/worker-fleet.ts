/**
 * Sluice workers as separate processes (`sluice worker`, configured by the environment, as in production), sharing
 * one prebuilt workflow bundle so each starts in seconds. Tests SIGKILL them and start new ones.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

const REPO_ROOT = path.join(__dirname, '..', '..', '..');
const CLI = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
}

export interface WorkerFleet {
  workers: WorkerProcess[];
  start(): Promise<WorkerProcess>;
  stopAll(signal?: NodeJS.Signals): Promise<void>;
}

/** Bundles the workflows once into `file` (the workers load it with SLUICE_WORKFLOW_BUNDLE). */
export async function writeWorkflowBundle(file: string): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
  await writeFile(file, code);
  return file;
}

export function workerFleet(env: NodeJS.ProcessEnv, logDir?: string): WorkerFleet {
  const workers: WorkerProcess[] = [];
  return {
    workers,
    async start() {
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'worker'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const keep = (b: Buffer) => (output = (output + b.toString()).slice(-20_000));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const w = { child, output: () => output };
      workers.push(w);
      const deadline = Date.now() + 120_000;
      // runWorkerFromEnv prints this line once the worker is created, just before it polls.
      while (!output.includes('Sluice worker on')) {
        if (child.exitCode !== null) throw new Error(`a worker process exited early:\n${output}`);
        if (Date.now() > deadline) throw new Error(`a worker process did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      if (logDir) child.once('exit', () => void writeFile(path.join(logDir, `worker-${child.pid}.log`), output));
      return w;
    },
    async stopAll(signal = 'SIGTERM') {
      await Promise.all(
        workers.map(async ({ child }) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, 'exit');
          child.kill(signal);
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}
