/**
 * Reads an intake's JSONL file once and checks every line with the run's input checker (validateInputLine), plus
 * what an intake line adds: a custom_id is required (it is the idempotency key), an optional tier, deadline and
 * notifyWorkflowId. Every problem names its line and field, so `sluice enqueue` can refuse the whole file before
 * anything is sent, as `sluice run` does.
 */
import { DuplicateTracker } from '../domain/custom-id';
import type { InputIssue } from '../domain/input-issue';
import { TIERS, type Tier } from '../domain/intake';
import { MAX_BATCH_BODY_BYTES } from '../domain/limits';
import type { ModelCatalog } from '../domain/models';
import { validateInputLine, type JobDefaults } from '../domain/request';
import { isPlainObject } from '../domain/request-zod';
import type { IntakeRequest } from './intake';
import { readInputLines } from './input-lines';

/** The fields an intake line has beyond a job line's custom_id and params. */
const INTAKE_FIELDS = ['tier', 'deadline', 'notifyWorkflowId'] as const;

export interface IntakeFileRequest extends IntakeRequest {
  /** 1-based line in the file, for messages about this request's answer. */
  line: number;
}

export interface IntakeFile {
  requests: IntakeFileRequest[];
  issues: InputIssue[];
  /** One JSON line per rejected input line: {line, issues}, as `sluice run --skip-invalid` writes them. */
  rejects: string[];
}

export async function readIntakeFile(o: { file: string; defaults?: JobDefaults; models?: ModelCatalog }): Promise<IntakeFile> {
  const maxRequestBytes = MAX_BATCH_BODY_BYTES - 64;
  const out: IntakeFile = { requests: [], issues: [], rejects: [] };
  const tracker = new DuplicateTracker();
  const reject = (lineIssues: InputIssue[]) => {
    out.issues.push(...lineIssues);
    out.rejects.push(JSON.stringify({ line: lineIssues[0]!.line, issues: lineIssues }));
  };
  for await (const raw of readInputLines(o.file, maxRequestBytes + 1024)) {
    if ('problem' in raw) {
      const reason = raw.problem === 'not-utf8' ? 'is not valid UTF-8 text' : `line is ${raw.bytes} bytes, over the request limit of ${maxRequestBytes}`;
      reject([{ line: raw.line, reason }]);
      continue;
    }
    const checked = checkIntakeLine(raw.text, raw.line, o.defaults ?? {}, { maxRequestBytes, models: o.models });
    if (checked === 'blank') continue;
    if ('issues' in checked) {
      reject(checked.issues);
      continue;
    }
    const dup = tracker.check(checked.request.custom_id, raw.line, false);
    if (dup) {
      reject([dup]);
      continue;
    }
    out.requests.push(checked.request);
  }
  return out;
}

/** One intake line: the job line's checks on custom_id and params, then the intake's own fields. */
export function checkIntakeLine(
  text: string,
  line: number,
  defaults: JobDefaults,
  opts: { maxRequestBytes: number; models?: ModelCatalog },
): 'blank' | { request: IntakeFileRequest } | { issues: InputIssue[] } {
  const cleaned = text.replace(/^\uFEFF/, '').replace(/\r$/, '');
  if (cleaned.trim() === '') return 'blank';
  let value: unknown;
  try {
    value = JSON.parse(cleaned);
  } catch {
    value = undefined;
  }
  // Not an object (or not JSON): the run's checker says so in its own words.
  if (!isPlainObject(value)) {
    const v = validateInputLine(cleaned, line, defaults, opts);
    return v.ok === false ? { issues: v.errors } : { issues: [{ line, reason: 'must be a JSON object' }] };
  }
  const own: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) ((INTAKE_FIELDS as readonly string[]).includes(k) ? own : rest)[k] = v;
  const issues: InputIssue[] = [];
  const v = validateInputLine(JSON.stringify(rest), line, defaults, opts);
  if (v.ok === false) {
    for (const e of v.errors) {
      // The run's checker knows only custom_id and params; an intake line has more.
      issues.push(e.reason.includes('a line has only') ? { ...e, reason: `is not a known field; an intake line has custom_id, params, ${INTAKE_FIELDS.join(', ')}` } : e);
    }
  } else if (v.ok === true && v.customId === undefined) {
    issues.push({ line, field: 'custom_id', reason: 'is required: the intake uses it as the idempotency key' });
  }
  if (own.tier !== undefined && !TIERS.includes(own.tier as Tier)) {
    issues.push({ line, field: 'tier', reason: `must be one of ${TIERS.join(', ')} (got ${JSON.stringify(own.tier)})` });
  }
  const deadlineMs = typeof own.deadline === 'string' ? Date.parse(own.deadline) : own.deadline;
  if (own.deadline !== undefined && (typeof deadlineMs !== 'number' || !Number.isFinite(deadlineMs))) {
    issues.push({ line, field: 'deadline', reason: `must be an ISO date or epoch milliseconds (got ${JSON.stringify(own.deadline)})` });
  }
  if (own.notifyWorkflowId !== undefined && (typeof own.notifyWorkflowId !== 'string' || own.notifyWorkflowId === '')) {
    issues.push({ line, field: 'notifyWorkflowId', reason: 'must be a workflow id (a non-empty string)' });
  }
  if (issues.length || v.ok !== true) return { issues };
  return {
    request: {
      line,
      custom_id: v.customId!,
      params: v.params,
      tier: own.tier as Tier | undefined,
      deadline: deadlineMs as number | undefined,
      notifyWorkflowId: own.notifyWorkflowId as string | undefined,
    },
  };
}
