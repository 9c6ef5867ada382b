/**
 * A worker keeps within its memory budget by itself: it finds the budget (SLUICE_WORKER_MEMORY_MB, else the
 * container's cgroup limit, else a default), sizes its heap, activity slots and workflow cache from it
 * (src/domain/worker-sizing.ts), and, since V8 fixes its heap limit at start, runs itself again with
 * --max-old-space-size when it was not started with one. The first process then only passes signals on and exits
 * as the worker does.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import v8 from 'node:v8';
import type { SluiceConfig } from './config';
import { containerLimitMb, heapFlagMb, memoryBudget, sizeWorker, type WorkerSizing } from './domain/worker-sizing';

/** Set (internally) on the process a worker re-executed itself as; not a setting. */
const REEXEC_MARK = 'SLUICE_WORKER_REEXEC';

/**
 * glibc gives each thread that allocates its own malloc arena (up to 8 per core); the worker's Rust core, V8 and
 * libuv threads each fragment theirs, and RSS crept up over a long job. Two arenas, unless the operator set it.
 */
const MALLOC_ARENAS = 'MALLOC_ARENA_MAX';
const WORKER_MALLOC_ARENAS = 2;

/** cgroup v2, then v1. */
const CGROUP_LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

export interface WorkerMemory extends WorkerSizing {
  /** Where the heap limit in force came from: this worker's sizing, or a flag the operator gave Node. */
  heapSetBy: 'budget' | 'flag' | 'node default';
  /** The heap limit V8 reports in this process (old space plus young generation), MB. */
  heapLimitMb: number;
  /** MALLOC_ARENA_MAX in this process: what the worker set when it set its heap, or the operator's; unset: glibc's. */
  mallocArenaMax?: string;
}

async function readContainerLimitMb(): Promise<number | undefined> {
  for (const file of CGROUP_LIMIT_FILES) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return containerLimitMb(text);
  }
  return undefined;
}

export async function workerSizing(cfg: SluiceConfig): Promise<WorkerSizing> {
  const { budgetMb, source } = memoryBudget(cfg.SLUICE_WORKER_MEMORY_MB, await readContainerLimitMb());
  return sizeWorker(budgetMb, source, { activitySlots: cfg.SLUICE_ACTIVITY_CONCURRENCY, workflowCache: cfg.SLUICE_WORKFLOW_CACHE });
}

/** The heap flag this process runs with (its own options, then NODE_OPTIONS), if any. */
function heapFlagInForce(env: NodeJS.ProcessEnv): number | undefined {
  return heapFlagMb(process.execArgv) ?? heapFlagMb((env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean));
}

/** The memory the worker runs with, as its startup line and `--print-config` report it. */
export function memoryInForce(sizing: WorkerSizing, env: NodeJS.ProcessEnv): WorkerMemory {
  const flag = heapFlagInForce(env);
  const heapLimitMb = Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
  return {
    ...sizing,
    heapSetBy: flag === undefined ? 'node default' : flag === sizing.heapMb ? 'budget' : 'flag',
    heapMb: flag ?? heapLimitMb,
    heapLimitMb,
    ...(env[MALLOC_ARENAS] !== undefined && { mallocArenaMax: env[MALLOC_ARENAS] }),
  };
}

export function describeMemory(m: WorkerMemory): string {
  const heap = m.heapSetBy === 'budget' ? `heap ${m.heapMb} MB` : `heap ${m.heapMb} MB (${m.heapSetBy === 'flag' ? '--max-old-space-size given' : "Node's default"})`;
  return `memory: budget ${m.budgetMb} MB (${m.budgetSource}), ${heap}, ${m.activitySlots} activity slots, workflow cache ${m.workflowCache}`;
}

/**
 * Without a heap flag, runs this same command again with one and resolves with its exit code; with one (set by an
 * earlier pass, or by the operator), resolves undefined: this process is the worker.
 */
export async function reexecWithHeapLimit(sizing: WorkerSizing, env: NodeJS.ProcessEnv): Promise<number | undefined> {
  if (heapFlagInForce(env) !== undefined) return undefined;
  // An IPC channel tells the worker when this process is gone, even by kill -9: it then dies the same way.
  const child = spawn(process.execPath, [...process.execArgv, `--max-old-space-size=${sizing.heapMb}`, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...env, [MALLOC_ARENAS]: env[MALLOC_ARENAS] ?? String(WORKER_MALLOC_ARENAS), [REEXEC_MARK]: '1' },
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handlers = signals.map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 1)));
    });
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

/**
 * In the re-executed worker: when the first process disappears (stopped by kill -9, say), the worker goes too, at
 * once and without cleanup, as it would have had it been that process; an operator's kill must mean what it says.
 */
export function exitWithFirstProcess(env: NodeJS.ProcessEnv): void {
  if (env[REEXEC_MARK] !== '1' || !process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}
