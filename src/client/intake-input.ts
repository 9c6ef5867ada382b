/**
 * Reads an intake's JSONL file once with the one input checker (input-checker.ts), told what an intake line adds: a
 * custom_id is required (it is the idempotency key), and an optional tier, deadline and notifyWorkflowId. Every
 * problem names its line and field, so `sluice enqueue` can refuse the whole file before anything is sent, as
 * `sluice run` does.
 */
import type { InputIssue } from '../domain/input-issue';
import { TIERS, type Tier } from '../domain/intake';
import type { ModelCatalog } from '../domain/models';
import type { JobDefaults } from '../domain/request';
import type { IntakeRequest } from './intake';
import { InputChecker, type ExtraFields } from './input-checker';

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

export async function readIntakeFile(o: {
  file: string;
  defaults?: JobDefaults;
  models?: ModelCatalog;
  /** Largest single request (default: what fits in one create body). */
  maxRequestBytes?: number;
}): Promise<IntakeFile> {
  const checker = new InputChecker({
    defaults: o.defaults,
    models: o.models,
    maxRequestBytes: o.maxRequestBytes,
    requireCustomId: 'is required: the intake uses it as the idempotency key',
    extraFields: INTAKE_EXTRA_FIELDS,
  });
  const out: IntakeFile = { requests: [], issues: [], rejects: [] };
  for await (const checked of checker.checkFile(o.file)) {
    if ('rejected' in checked) {
      out.issues.push(...checked.rejected.issues);
      out.rejects.push(JSON.stringify({ line: checked.rejected.line, issues: checked.rejected.issues }));
      continue;
    }
    const { request, extra = {} } = checked;
    out.requests.push({
      line: request.line,
      custom_id: request.custom_id,
      params: request.params,
      tier: extra.tier as Tier | undefined,
      deadline: deadlineMs(extra.deadline),
      notifyWorkflowId: extra.notifyWorkflowId as string | undefined,
    });
  }
  return out;
}

/** An ISO date or epoch milliseconds, as milliseconds (NaN when it is neither). */
function deadlineMs(deadline: unknown): number | undefined {
  if (deadline === undefined) return undefined;
  return typeof deadline === 'string' ? Date.parse(deadline) : typeof deadline === 'number' ? deadline : NaN;
}

const INTAKE_EXTRA_FIELDS: ExtraFields = {
  names: INTAKE_FIELDS,
  known: `an intake line has custom_id, params, ${INTAKE_FIELDS.join(', ')}`,
  check(fields, line) {
    const issues: InputIssue[] = [];
    if (fields.tier !== undefined && !TIERS.includes(fields.tier as Tier)) {
      issues.push({ line, field: 'tier', reason: `must be one of ${TIERS.join(', ')} (got ${JSON.stringify(fields.tier)})` });
    }
    if (fields.deadline !== undefined && !Number.isFinite(deadlineMs(fields.deadline))) {
      issues.push({ line, field: 'deadline', reason: `must be an ISO date or epoch milliseconds (got ${JSON.stringify(fields.deadline)})` });
    }
    if (fields.notifyWorkflowId !== undefined && (typeof fields.notifyWorkflowId !== 'string' || fields.notifyWorkflowId === '')) {
      issues.push({ line, field: 'notifyWorkflowId', reason: 'must be a workflow id (a non-empty string)' });
    }
    return issues;
  },
};
