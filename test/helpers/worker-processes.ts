/**
 * Sluice workers in child processes, for tests that kill them with SIGKILL. One prebuilt workflow bundle is
 * shared so a restarted worker is polling within a second or two.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { TestStack } from './stack';
import { sharedWorkflowBundlePath } from './workflow-bundle';

const WORKER_SCRIPT = path.join(__dirname, '..', 'fixtures', 'worker-process.ts');

export interface WorkerProcess {
  child: ChildProcess;
  /** What it printed so far, for failure messages. */
  output(): string;
}

export interface WorkerProcesses {
  start(): Promise<WorkerProcess>;
  killAll(): Promise<void>;
}

/** The environment a worker process needs to serve a test stack (the variables src/config.ts reads). */
export function workerEnv(stack: TestStack): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: stack.env.address,
    TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
    SLUICE_TASK_QUEUE: stack.taskQueue,
    ANTHROPIC_API_KEY: stack.emulator.apiKey,
    ANTHROPIC_BASE_URL: stack.emulator.url,
    SLUICE_STORE_DIR: stack.storeDir,
  };
}

export async function workerProcesses(stack: TestStack): Promise<WorkerProcesses> {
  const bundlePath = await sharedWorkflowBundlePath();
  const children: ChildProcess[] = [];
  return {
    async start() {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
        cwd: path.join(__dirname, '..', '..'),
        env: { ...workerEnv(stack), SLUICE_WORKFLOW_BUNDLE: bundlePath },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let output = '';
      child.stdout.on('data', (b: Buffer) => (output += b.toString()));
      child.stderr.on('data', (b: Buffer) => (output += b.toString()));
      const deadline = Date.now() + 30_000;
      while (!output.includes('worker ready')) {
        if (child.exitCode !== null) throw new Error(`the worker process exited early:\n${output}`);
        if (Date.now() > deadline) throw new Error(`the worker process did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return { child, output: () => output };
    },
    async killAll() {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await once(child, 'exit');
        }
      }
    },
  };
}
