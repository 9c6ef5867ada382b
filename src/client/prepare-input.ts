/**
 * Reads a job's JSONL input once, checks every line with the one input checker (input-checker.ts: all problems,
 * each with its line and field; defaults merged; custom_ids given or derived), and stores the normalized requests
 * for the workers. Nothing
 * is stored when any line is bad, unless the caller asked to skip bad lines (they then go to rejects.jsonl).
 */
import { InputError } from '../domain/errors';
import { jobKeys } from '../domain/job';
import { LinePieces } from '../domain/line-pieces';
import type { ModelCatalog } from '../domain/models';
import type { InputIssue, JobDefaults } from '../domain/request';
import type { BlobStore } from '../store/blob-store';
import { InputChecker } from './input-checker';
import type { SourceLine } from './template-input';

export interface PrepareInputOptions {
  file: string;
  jobId: string;
  store: BlobStore;
  defaults?: JobDefaults;
  /** Largest single request (default: what fits in one create body). */
  maxRequestBytes?: number;
  skipInvalid?: boolean;
  /** The account's models (readModelCatalog); default: the built-in lineup, which lets unknown names through. */
  models?: ModelCatalog;
  /** Lines made from rows and a template (templateLines); default: the lines of `file`, a JSONL input. */
  lines?: AsyncIterable<SourceLine>;
}

export interface PreparedInput {
  inputKey: string;
  requestCount: number;
  rejected: number;
  rejectsKey?: string;
}

export async function prepareInput(o: PrepareInputOptions): Promise<PreparedInput> {
  const checker = new InputChecker({ defaults: o.defaults, maxRequestBytes: o.maxRequestBytes, models: o.models });
  const issues: InputIssue[] = [];
  const rejects: string[] = [];

  let lines = 0;
  async function* normalized(): AsyncIterable<string> {
    // Lines go to the store a few hundred at a time, as one piece each (the same bytes as one by one, in far fewer
    // writes); once a line is bad and bad lines are not skipped, nothing more is kept (the input is deleted below).
    const pieces = new LinePieces();
    for await (const checked of (o.lines ? checker.checkLines(o.lines) : checker.checkFile(o.file))) {
      if ('request' in checked) {
        lines++;
        if (issues.length > 0 && !o.skipInvalid) continue;
        const piece = pieces.add(checked.text ?? JSON.stringify(checked.request));
        if (piece !== undefined) yield piece;
        continue;
      }
      issues.push(...checked.rejected.issues);
      rejects.push(JSON.stringify(checked.rejected));
    }
    const last = pieces.flush();
    if (last !== undefined) yield last;
  }

  const inputKey = jobKeys.input(o.jobId);
  await o.store.writeLines(inputKey, normalized());
  if (issues.length > 0 && !o.skipInvalid) {
    await o.store.delete(inputKey);
    throw new InputError(issues, { file: o.file });
  }
  if (lines === 0) {
    await o.store.delete(inputKey);
    const reason = issues.length > 0 ? 'every line was rejected: nothing is left to send' : 'is empty: there is nothing to send';
    throw new InputError([{ line: 1, reason }], { file: o.file });
  }
  let rejectsKey: string | undefined;
  if (rejects.length > 0) {
    rejectsKey = jobKeys.rejects(o.jobId);
    await o.store.writeLines(rejectsKey, rejects);
  }
  return { inputKey, requestCount: lines, rejected: rejects.length, rejectsKey };
}
