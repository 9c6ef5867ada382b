/**
 * Summaries of V8 CPU profiles (`node --cpu-prof`, one file per thread): self time by function and by where the
 * code lives (Sluice's own files, a package, Node's internals, GC), so the bench shows what the worker's CPU does.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  /** µs on the monotonic clock, the one process.hrtime() reads in any process of the machine. */
  startTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
}

export interface ProfileSummary {
  files: number;
  totalMs: number;
  idleMs: number;
  functions: ProfileEntry[];
  places: ProfileEntry[];
  /** Self time given to the innermost Sluice function on the stack (src/...): what Sluice code the CPU was spent for. */
  sluiceCallers: ProfileEntry[];
  /** CPU by thread: the main thread (activities, Temporal's core bridge) and the workflow thread(s), in the window. */
  threads: ProfileEntry[];
}

/** A profile's thread: the workflow threads run the SDK's workflow-worker-thread; the main one is thread 0 of its file name. */
function threadOf(file: string, profile: CpuProfile): string {
  const pid = file.split('.')[3] ?? '?';
  if (profile.nodes.some((n) => n.callFrame.url.includes('workflow-worker-thread'))) return `workflow thread (pid ${pid})`;
  return file.split('.')[4] === '0' ? `main thread: activities, Temporal core (pid ${pid})` : `other thread (pid ${pid})`;
}

/** Where a frame's code lives: `src/<file>`, a package name, `node:internal`, or V8's own pseudo-frames. */
export function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `native ${functionName || '(anonymous)'}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return 'node:internal';
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1).replace(/^file:\/\//, '');
  // The workflow bundle is one file: the workflows and the SDK's workflow runtime together.
  if (url.includes('workflow-bundle')) return 'workflow bundle';
  return path.basename(url);
}

/** A span of the monotonic clock in µs (`process.hrtime.bigint() / 1000n`): only samples inside it count. */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

export async function summarizeProfiles(dir: string, window: ProfileWindow, top = 12): Promise<ProfileSummary> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  const byCaller = new Map<string, number>();
  const byThread = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const callerCache = new Map<number, string>();
    const callerOf = (id: number): string => {
      const cached = callerCache.get(id);
      if (cached !== undefined) return cached;
      let found = '(no Sluice frame: Temporal, Node, GC)';
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const f = nodes.get(at)!.callFrame;
        const place = placeOf(f.url, f.functionName);
        if (place.startsWith('src/')) {
          found = `${f.functionName || '(anonymous)'} ${place}:${f.lineNumber + 1}`;
          break;
        }
      }
      callerCache.set(id, found);
      return found;
    };
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    const thread = threadOf(file, profile);
    let at = profile.startTime;
    for (let i = 0; i < samples.length; i++) {
      const node = nodes.get(samples[i]!);
      const us = deltas[i] ?? 0;
      at += us;
      if (!node || at < window.fromUs || at > window.toUs) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)') {
        idleUs += us;
        continue;
      }
      totalUs += us;
      byThread.set(thread, (byThread.get(thread) ?? 0) + us);
      const place = placeOf(url, functionName);
      const fn = `${functionName || '(anonymous)'} ${url ? `${place}:${lineNumber + 1}` : ''}`.trim();
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      byPlace.set(place, (byPlace.get(place) ?? 0) + us);
      const caller = callerOf(node.id);
      byCaller.set(caller, (byCaller.get(caller) ?? 0) + us);
    }
  }
  const topOf = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000 }));
  return {
    files: files.length,
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    functions: topOf(byFunction),
    places: topOf(byPlace),
    sluiceCallers: topOf(byCaller),
    threads: topOf(byThread).filter((t) => t.selfMs >= 50),
  };
}
