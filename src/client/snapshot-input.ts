/**
 * A recurring audit's input, taken as it is right now: a JSONL file, a directory of .jsonl files, or a glob.
 * The files are read once, in path order, checked line by line by the same checker as `sluice run`
 * (input-checker.ts: the same errors, the same derived custom_ids), and stored normalized under the job's input key: that copy is the night's snapshot, so later
 * edits of the files do not change the job. Unlike `sluice run`, bad lines never stop the night: they go to
 * rejects.jsonl (with their file and line) and the rest runs.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { auditKeys } from '../domain/audit';
import { ConfigError } from '../domain/errors';
import { globBase, globToRegExp, hasGlobMagic } from '../domain/glob';
import { jobKeys } from '../domain/job';
import type { ModelCatalog } from '../domain/models';
import type { JobDefaults } from '../domain/request';
import type { BlobStore } from '../store/blob-store';
import { InputChecker } from './input-checker';

export interface SnapshotOptions {
  /** A file, a directory (its *.jsonl files, not recursive) or a glob. */
  input: string;
  jobId: string;
  store: BlobStore;
  defaults?: JobDefaults;
  maxRequestBytes?: number;
  /** The account's models, as for `sluice run`; default: the built-in lineup. */
  models?: ModelCatalog;
  /** Called every 10,000 lines, e.g. to heartbeat. */
  onProgress?: (lines: number) => void;
}

export interface SnapshotFile {
  path: string;
  bytes: number;
  /** The snapshot line of this file's first line: request `line`s count across files, in this order. */
  firstLine: number;
  lines: number;
}

export interface SnapshotResult {
  inputKey: string;
  requestCount: number;
  rejected: number;
  rejectsKey?: string;
  files: SnapshotFile[];
  takenAtMs: number;
}

/** The files an audit input names, sorted; a ConfigError when none. */
export async function matchInputFiles(input: string): Promise<string[]> {
  const found = await stat(input).catch(() => undefined);
  if (found?.isFile()) return [path.resolve(input)];
  if (found?.isDirectory()) {
    const entries = await readdir(input, { withFileTypes: true });
    const files = entries.filter((e) => e.isFile() && e.name.endsWith('.jsonl')).map((e) => path.resolve(input, e.name));
    if (files.length === 0) throw new ConfigError('input', `the directory ${input} holds no .jsonl files`);
    return files.sort();
  }
  if (!hasGlobMagic(input)) throw new ConfigError('input', `nothing is at ${input}`);
  const pattern = path.resolve(input).split(path.sep).join('/');
  const matcher = globToRegExp(pattern);
  const files: string[] = [];
  async function walk(dir: string) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && matcher.test(full.split(path.sep).join('/'))) files.push(full);
    }
  }
  await walk(globBase(pattern) || '/');
  if (files.length === 0) throw new ConfigError('input', `nothing matches ${input}`);
  return files.sort();
}

export async function snapshotInput(o: SnapshotOptions): Promise<SnapshotResult> {
  // A snapshot written whole is final: a retried activity returns it rather than reading files that moved on.
  const done = await o.store.readJson<SnapshotResult>(auditKeys.snapshot(o.jobId));
  if (done) return done;

  const paths = await matchInputFiles(o.input);
  const checker = new InputChecker({ defaults: o.defaults, maxRequestBytes: o.maxRequestBytes, models: o.models });
  const rejects: string[] = [];
  const files: SnapshotFile[] = [];
  let offset = 0;
  let seen = 0;

  async function* normalized(): AsyncIterable<string> {
    for (const file of paths) {
      const entry: SnapshotFile = { path: file, bytes: (await stat(file)).size, firstLine: offset + 1, lines: 0 };
      files.push(entry);
      const onLine = (line: number) => {
        entry.lines = line;
        if (++seen % 10_000 === 0) o.onProgress?.(seen);
      };
      for await (const checked of checker.checkFile(file, { lineOffset: offset, onLine })) {
        if ('request' in checked) yield checked.text ?? JSON.stringify(checked.request);
        else rejects.push(JSON.stringify({ file, ...checked.rejected }));
      }
      offset += entry.lines;
    }
  }

  const inputKey = jobKeys.input(o.jobId);
  const { lines } = await o.store.writeLines(inputKey, normalized());
  let rejectsKey: string | undefined;
  if (rejects.length > 0) {
    rejectsKey = jobKeys.rejects(o.jobId);
    await o.store.writeLines(rejectsKey, rejects);
  }
  const result: SnapshotResult = { inputKey, requestCount: lines, rejected: rejects.length, rejectsKey, files, takenAtMs: Date.now() };
  await o.store.writeJson(auditKeys.snapshot(o.jobId), result);
  return result;
}
