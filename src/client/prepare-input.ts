/**
 * Reads a job's JSONL input once, validates every line (all problems, each with its line and field), merges the
 * job defaults, gives each request its custom_id, and stores the normalized requests for the workers. Nothing
 * is stored when any line is bad, unless the caller asked to skip bad lines (they then go to rejects.jsonl).
 */
import { deriveCustomId, DuplicateTracker } from '../domain/custom-id';
import { InputError } from '../domain/errors';
import { jobKeys, type NormalizedRequest } from '../domain/job';
import { MAX_BATCH_BODY_BYTES } from '../domain/limits';
import type { ModelCatalog } from '../domain/models';
import { validateInputLine, type InputIssue, type JobDefaults } from '../domain/request';
import type { BlobStore } from '../store/blob-store';
import { packId, type PackedRow } from '../domain/pack';
import { readInputLines } from './input-lines';
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
  const maxRequestBytes = o.maxRequestBytes ?? MAX_BATCH_BODY_BYTES - 64;
  const issues: InputIssue[] = [];
  const rejects: string[] = [];
  const tracker = new DuplicateTracker();
  let index = 0;
  let packs = 0;
  const check = (text: string, line: number) => validateInputLine(text, line, o.defaults ?? {}, { maxRequestBytes, models: o.models });

  async function* normalized(): AsyncIterable<string> {
    for await (const raw of o.lines ?? readInputLines(o.file, maxRequestBytes + 1024)) {
      if ('issues' in raw) {
        index++;
        reject(raw.issues);
        continue;
      }
      if ('rows' in raw) {
        const packed = packedRequest(raw);
        if (packed) yield JSON.stringify(packed);
        continue;
      }
      if ('problem' in raw) {
        index++; // a derived id is the line's index among non-blank lines, bad ones included
        const reason =
          raw.problem === 'not-utf8'
            ? 'is not valid UTF-8 text'
            : `line is ${raw.bytes.toLocaleString('en-US')} bytes, over the request limit of ${maxRequestBytes.toLocaleString('en-US')}`;
        reject([{ line: raw.line, reason }]);
        continue;
      }
      const v = check(raw.text, raw.line);
      if (v.ok === 'blank') continue;
      const lineIndex = index++;
      if (v.ok === false) {
        reject(raw.unterminated ? v.errors.map(cutShortHint) : v.errors);
        continue;
      }
      const customId = v.customId ?? deriveCustomId(lineIndex);
      const dup = tracker.check(customId, raw.line, v.customId === undefined);
      if (dup) {
        reject([dup]);
        continue;
      }
      const request: NormalizedRequest = { custom_id: customId, line: raw.line, params: v.params };
      yield JSON.stringify(request);
    }
  }
  /** A pack of rows: every row valid on its own (it may be sent alone), and the packed prompt valid too. */
  function packedRequest(raw: Extract<SourceLine, { rows: unknown }>): NormalizedRequest | undefined {
    const rows: PackedRow<NormalizedRequest['params']>[] = [];
    let bad = false;
    for (const row of raw.rows) {
      const v = check(row.text, row.line);
      const rowIndex = index++;
      if (v.ok !== true) {
        if (v.ok === false) reject(v.errors);
        bad = true;
        continue;
      }
      const customId = v.customId ?? deriveCustomId(rowIndex);
      const dup = tracker.check(customId, row.line, v.customId === undefined);
      if (dup) {
        reject([dup]);
        bad = true;
        continue;
      }
      rows.push({ custom_id: customId, line: row.line, params: v.params });
    }
    const v = check(raw.text, raw.line);
    if (v.ok === false && !bad) reject(v.errors.map((e) => ({ ...e, reason: `the packed prompt of the rows from this line: ${e.reason}` })));
    if (bad || v.ok !== true) {
      // The pack goes as a whole or not at all: its good rows are rejected with it, and said so, never dropped.
      const why = bad ? 'a row of its pack is bad' : 'its packed prompt is bad';
      for (const row of rows) if (row.line !== raw.line || bad) reject([{ line: row.line, reason: `left out with the pack starting on line ${raw.line}: ${why}` }]);
      return undefined;
    }
    return { custom_id: packId(packs++), line: raw.line, params: v.params, pack: rows };
  }
  function reject(lineIssues: InputIssue[]) {
    issues.push(...lineIssues);
    rejects.push(JSON.stringify({ line: lineIssues[0]!.line, issues: lineIssues }));
  }

  const inputKey = jobKeys.input(o.jobId);
  const { lines } = await o.store.writeLines(inputKey, normalized());
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

/** A last line that is not JSON and has no newline after it is most likely a file cut short: say so. */
function cutShortHint(issue: InputIssue): InputIssue {
  if (!issue.reason.startsWith('is not valid JSON')) return issue;
  return { ...issue, reason: `${issue.reason} (the last line has no newline after it: was the file cut short?)` };
}
