/**
 * The job line's check (validateInputLine: a JSON parse, zod's check of the params, the params' JSON text) spread
 * over worker threads while the reading thread reads, decides the order-bound parts (derived ids, duplicates) and
 * uploads: the check is most of the client's CPU before a job starts, and the machine's other cores are idle then.
 * Groups of lines go out and their verdicts come back in input order; the threads share nothing else.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { InputIssue, JobDefaults } from '../domain/request';
import type { ModelCatalog } from '../domain/models';

export interface LineCheckThreadData {
  defaults: JobDefaults;
  maxRequestBytes: number;
  models?: ModelCatalog;
}

export interface LineCheckTask {
  id: number;
  texts: string[];
  lines: number[];
}

/** 0: a blank line; otherwise the line's issues, or what the reading thread stores (JSON.stringify(params)). */
export type LineVerdict = 0 | { errors: InputIssue[] } | { customId?: string; paramsJson: string };

/** Threads for a check: one per core beyond this one, at least one, at most four. */
export function defaultCheckThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

export class LineCheckPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (v: LineVerdict[]) => void; reject: (err: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(threads: number, data: LineCheckThreadData) {
    // The thread's module beside this one: .js once built; from source (tests, benches) through tsx's require hook.
    const ext = path.extname(__filename);
    const file = path.join(__dirname, `line-check-thread${ext}`);
    this.workers = Array.from({ length: threads }, () => {
      const worker =
        ext === '.ts'
          ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData: data })
          : new Worker(file, { workerData: data });
      worker.on('message', (m: { id: number; verdicts: LineVerdict[] }) => {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        w?.resolve(m.verdicts);
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`an input check thread stopped (exit code ${code})`));
      });
      return worker;
    });
  }

  /** The verdicts of a group of lines, in its order. */
  check(texts: string[], lines: number[]): Promise<LineVerdict[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.workers[id % this.workers.length]!.postMessage({ id, texts, lines } satisfies LineCheckTask);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
