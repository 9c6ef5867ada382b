/**
 * How a worker turns its memory budget into a V8 heap limit, activity slots and a workflow cache, so that it stays
 * within the budget without V8 flags from its operator. Pure: src/worker-memory.ts finds the budget (setting,
 * container limit, default) and applies the result.
 *
 * Measured with `npm run bench` (docs/performance.md): with a 128 MB old space a worker's peak RSS was 325–365 MB
 * at 10k and 100k requests and 433 MB at 1M, so about 250 MB live outside the main heap's old space (Node and V8
 * themselves, young generations, the workflow thread's own isolate, Temporal's Rust core and its gRPC buffers,
 * code). The heap gets three quarters of what is left above that. An activity holds at most one sub-batch of
 * requests or results (a few MB at the default size of 100); a cached job workflow about 1 MB (Temporal's own
 * figure with a shared V8 context).
 */

/** The budget when neither SLUICE_WORKER_MEMORY_MB nor a container limit says otherwise. */
export const DEFAULT_WORKER_MEMORY_MB = 1_024;
/** Below this a worker cannot hold Temporal's runtime and one sub-batch: SLUICE_WORKER_MEMORY_MB refuses less. */
export const MIN_WORKER_MEMORY_MB = 352;
const FIXED_OFF_HEAP_MB = 256;
const HEAP_SHARE_ABOVE_FIXED = 0.75;
const MIN_HEAP_MB = 64;
/** Heap set aside per activity slot and per cached workflow; activities and the cache get half the heap each. */
const HEAP_PER_ACTIVITY_MB = 4;
const HEAP_PER_CACHED_WORKFLOW_MB = 1;
const MIN_ACTIVITY_SLOTS = 4;
const MAX_ACTIVITY_SLOTS = 256;
const MIN_WORKFLOW_CACHE = 10;
const MAX_WORKFLOW_CACHE = 2_000;

export type MemoryBudgetSource = 'SLUICE_WORKER_MEMORY_MB' | 'container limit' | 'default';

export interface WorkerSizing {
  budgetMb: number;
  budgetSource: MemoryBudgetSource;
  /** What the worker sets as --max-old-space-size. */
  heapMb: number;
  activitySlots: number;
  workflowCache: number;
}

export interface SizingOverrides {
  /** SLUICE_ACTIVITY_CONCURRENCY and SLUICE_WORKFLOW_CACHE, when set, win over the sizes the budget gives. */
  activitySlots?: number;
  workflowCache?: number;
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

export function sizeWorker(budgetMb: number, budgetSource: MemoryBudgetSource, overrides: SizingOverrides = {}): WorkerSizing {
  const heapMb = Math.max(MIN_HEAP_MB, Math.floor((budgetMb - FIXED_OFF_HEAP_MB) * HEAP_SHARE_ABOVE_FIXED));
  return {
    budgetMb,
    budgetSource,
    heapMb,
    activitySlots: overrides.activitySlots ?? clamp(Math.floor(heapMb / 2 / HEAP_PER_ACTIVITY_MB), MIN_ACTIVITY_SLOTS, MAX_ACTIVITY_SLOTS),
    workflowCache: overrides.workflowCache ?? clamp(Math.floor(heapMb / 2 / HEAP_PER_CACHED_WORKFLOW_MB), MIN_WORKFLOW_CACHE, MAX_WORKFLOW_CACHE),
  };
}

/** A cgroup memory limit in bytes as the kernel writes it ("max", or a huge number, for none) → MB, or undefined. */
export function containerLimitMb(text: string | undefined): number | undefined {
  const value = text?.trim();
  if (!value || value === 'max' || !/^\d+$/.test(value)) return undefined;
  const bytes = Number(value);
  // cgroup v1 writes about 2^63 for "no limit"; no host has a petabyte.
  if (!Number.isFinite(bytes) || bytes >= 2 ** 50) return undefined;
  return Math.floor(bytes / 2 ** 20);
}

/** The budget a worker lives within: its setting, else its container's limit, else the default. */
export function memoryBudget(settingMb: number | undefined, containerMb: number | undefined): { budgetMb: number; source: MemoryBudgetSource } {
  if (settingMb !== undefined) return { budgetMb: settingMb, source: 'SLUICE_WORKER_MEMORY_MB' };
  if (containerMb !== undefined) return { budgetMb: containerMb, source: 'container limit' };
  return { budgetMb: DEFAULT_WORKER_MEMORY_MB, source: 'default' };
}

/** The --max-old-space-size a list of Node options (execArgv, NODE_OPTIONS) sets, if any. */
export function heapFlagMb(options: readonly string[]): number | undefined {
  let found: number | undefined;
  for (let i = 0; i < options.length; i++) {
    const m = /^--max[-_]old[-_]space[-_]size(?:=(\d+))?$/.exec(options[i]!);
    if (!m) continue;
    const value = m[1] ?? options[i + 1];
    if (value !== undefined && /^\d+$/.test(value)) found = Number(value);
  }
  return found;
}
