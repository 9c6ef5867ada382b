/**
 * The checks at the end of a chaos run, from the outside: results.jsonl against the input, against what the
 * API (the emulator, through the official SDK) answers for every batch, and against what it was sent.
 */
import { isDeepStrictEqual } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import type { MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches';
import { jobKeys, type NormalizedRequest, type OutcomeLine } from '../../src/domain/job';
import type { EmulatorStats } from '../../src/emulator';
import { summariseParams, syntheticMessage } from '../../src/emulator/synthetic';
import type { BatchIndexEntry, SubmissionRecord } from '../../src/activities/submit';
import type { BlobStore } from '../../src/store/blob-store';

export interface Check {
  check: string;
  value: string;
  ok: boolean;
  note: string;
}

export interface VerifyInput {
  jobId: string;
  store: BlobStore;
  /** Stats of the emulator the job ran against, taken when the job ended. */
  stats: EmulatorStats;
  /** An emulator serving the same batches (the same state file), for reading results. */
  api: { url: string; apiKey: string };
  maxAttempts: number;
}

export interface Verification {
  checks: Check[];
  outcomes: Record<string, number>;
  attempts: Record<string, number>;
  reconciledSubmissions: number;
  /** Batches created that no submission recorded (lost creates nobody adopted). */
  orphanBatches: string[];
}

export async function verifyJob(v: VerifyInput): Promise<Verification> {
  const checks: Check[] = [];
  const add = (check: string, value: string | number, ok: boolean, note = '') =>
    checks.push({ check, value: String(value), ok, note });

  const input: NormalizedRequest[] = [];
  for await (const l of v.store.readLines(jobKeys.input(v.jobId))) input.push(JSON.parse(l) as NormalizedRequest);
  const results: OutcomeLine[] = [];
  for await (const l of v.store.readLines(jobKeys.output(v.jobId, 'results.jsonl'))) results.push(JSON.parse(l) as OutcomeLine);

  // 1. Every request exactly one final outcome, in input order.
  const byId = new Map<string, OutcomeLine[]>();
  for (const r of results) byId.set(r.custom_id, [...(byId.get(r.custom_id) ?? []), r]);
  const missing = input.filter((r) => !byId.has(r.custom_id)).length;
  const repeated = [...byId.values()].filter((list) => list.length > 1).length;
  const inputIds = new Set(input.map((r) => r.custom_id));
  const foreign = [...byId.keys()].filter((id) => !inputIds.has(id)).length;
  const ordered = results.every((r, i) => r.line === input[i]?.line);
  const final = results.every((r) => r.status === 'succeeded' || r.status === 'failed');
  add(
    'one final outcome per request',
    `${results.length} lines for ${input.length} requests`,
    results.length === input.length && missing === 0 && repeated === 0 && foreign === 0 && ordered && final,
    `missing ${missing}, repeated ${repeated}, unknown ${foreign}, input order ${ordered ? 'yes' : 'NO'}, all succeeded/failed ${final ? 'yes' : 'NO'}`,
  );
  const outcomes: Record<string, number> = {};
  const attempts: Record<string, number> = {};
  for (const r of results) {
    outcomes[r.status] = (outcomes[r.status] ?? 0) + 1;
    attempts[r.attempts] = (attempts[r.attempts] ?? 0) + 1;
  }

  // 2. What the API answers for every batch it created: which requests each held, and their results.
  const api = new Anthropic({ apiKey: v.api.apiKey, baseURL: v.api.url, maxRetries: 8 });
  const answers = new Map<string, Map<string, MessageBatchIndividualResponse['result']>>();
  const batchesOf = new Map<string, string[]>();
  for (const { batchId } of v.stats.createLog) {
    const lines = new Map<string, MessageBatchIndividualResponse['result']>();
    for await (const item of await api.messages.batches.results(batchId)) {
      lines.set(item.custom_id, item.result);
      batchesOf.set(item.custom_id, [...(batchesOf.get(item.custom_id) ?? []), batchId]);
    }
    answers.set(batchId, lines);
  }

  // 3. Succeeded results are the API's: the message of the last batch the request was in, and the message the
  //    emulator derives from that custom_id and those params (so the params were sent intact).
  const params = new Map(input.map((r) => [r.custom_id, r.params]));
  let matched = 0;
  const mismatched: string[] = [];
  let failuresAgree = 0;
  const failuresDisagree: string[] = [];
  for (const r of results) {
    const last = r.batch_ids.at(-1);
    const answer = last === undefined ? undefined : answers.get(last)?.get(r.custom_id);
    if (r.status === 'succeeded') {
      const derived = syntheticMessage(r.custom_id, summariseParams(params.get(r.custom_id) as Record<string, unknown>), 'batch');
      const ok = answer?.type === 'succeeded' && isDeepStrictEqual(answer.message, r.message) && isDeepStrictEqual(r.message, derived);
      if (ok) matched++;
      else mismatched.push(r.custom_id);
    } else if (r.status === 'failed') {
      const type = r.error?.type;
      const apiType = answer?.type === 'errored' ? answer.error.error.type : answer?.type;
      const ok = apiType !== undefined && apiType === type && (r.attempts === v.maxAttempts || !isRetryable(type));
      if (ok) failuresAgree++;
      else failuresDisagree.push(r.custom_id);
    }
  }
  add(
    "succeeded results are the API's",
    `${matched} of ${outcomes.succeeded ?? 0}`,
    mismatched.length === 0,
    mismatched.length ? `differ: ${mismatched.slice(0, 5).join(', ')}` : 'message id and text equal to the batch results and to the emulator derivation',
  );
  add(
    "failures are the API's last answer",
    `${failuresAgree} of ${outcomes.failed ?? 0}`,
    failuresDisagree.length === 0,
    failuresDisagree.length ? `differ: ${failuresDisagree.slice(0, 5).join(', ')}` : 'terminal error type, or a retryable one after max attempts',
  );

  // 4. Submissions against attempts. A request's batch_ids are the batches it was sent in, one per attempt.
  const claimed = new Set<string>();
  for (const { batchId } of v.stats.createLog) if (await v.store.exists(jobKeys.batch(batchId))) claimed.add(batchId);
  const orphanBatches = v.stats.createLog.map((c) => c.batchId).filter((id) => !claimed.has(id));
  let equal = 0;
  const fewer: string[] = [];
  const explained = new Map<string, string>();
  const unexplained: string[] = [];
  const idsWrong: string[] = [];
  const why = extraSubmissionReasons(v.store, v.jobId, claimed);
  let firstUnexplained = '';
  for (const r of results) {
    const sent = v.stats.submissions[r.custom_id]?.batch ?? 0;
    const containing = batchesOf.get(r.custom_id) ?? [];
    if (r.batch_ids.length !== r.attempts || r.batch_ids.some((b) => !containing.includes(b))) idsWrong.push(r.custom_id);
    if (sent === r.attempts) equal++;
    else if (sent < r.attempts) fewer.push(r.custom_id);
    else {
      // Sent more often than attempted: a batch holds it that its own attempts do not name.
      const reasons = await Promise.all(containing.filter((b) => !r.batch_ids.includes(b)).map((b) => why(b, r.custom_id)));
      if (reasons.length > 0 && reasons.every((x) => x !== undefined)) explained.set(r.custom_id, reasons.join('; '));
      else {
        unexplained.push(r.custom_id);
        if (unexplained.length === 1) firstUnexplained = await describeExtra(v.store, v.jobId, r, containing);
      }
    }
  }
  const kinds = [...new Set(explained.values())];
  add(
    'submissions ≤ attempts per custom_id',
    `${equal} equal, ${fewer.length} fewer, ${explained.size + unexplained.length} more`,
    unexplained.length === 0,
    unexplained.length > 0
      ? `UNEXPLAINED: ${unexplained.slice(0, 5).join(', ')}; ${firstUnexplained}`
      : explained.size > 0
        ? `${explained.size} EXCEPTIONS, each explained: ${kinds.slice(0, 3).join('; ')}`
        : 'emulator stats submissions[custom_id].batch against attempts in results.jsonl',
  );
  add(
    'batch_ids: one per attempt, each held the request',
    `${results.length - idsWrong.length} of ${results.length}`,
    idsWrong.length === 0,
    idsWrong.length ? `wrong: ${idsWrong.slice(0, 5).join(', ')}` : '',
  );
  add(
    'every batch created was recorded',
    `${claimed.size} of ${v.stats.createLog.length}`,
    orphanBatches.length === 0,
    orphanBatches.length ? `orphans: ${orphanBatches.join(', ')}` : 'no batch paid for and left behind',
  );

  let reconciledSubmissions = 0;
  for (const key of await v.store.list(jobKeys.submissionsOf(v.jobId))) {
    if ((await v.store.readJson<SubmissionRecord>(key))?.reconciled) reconciledSubmissions++;
  }
  return { checks, outcomes, attempts, reconciledSubmissions, orphanBatches };
}

function isRetryable(type: string | undefined): boolean {
  return ['api_error', 'overloaded_error', 'rate_limit_error', 'timeout_error', 'expired', 'canceled'].includes(type ?? '');
}

/**
 * Why a batch that holds `customId` is not among the request's attempts, when the one reason Sluice accepts
 * applies (README, Guarantees): a create whose answer was lost was adopted by another submission's reconciliation
 * (batches carry no metadata; they are matched by time and size), or by none (an orphan).
 */
function extraSubmissionReasons(store: BlobStore, jobId: string, claimed: Set<string>) {
  const shards = new Map<string, Set<string>>();
  const idsOf = async (shardKey: string) => {
    let ids = shards.get(shardKey);
    if (!ids) {
      ids = new Set<string>();
      for await (const l of store.readLines(jobKeys.shard(jobId, shardKey))) ids.add((JSON.parse(l) as { custom_id: string }).custom_id);
      shards.set(shardKey, ids);
    }
    return ids;
  };
  return async (batchId: string, customId: string): Promise<string | undefined> => {
    if (!claimed.has(batchId)) return `lost create ${batchId} adopted by no submission (orphan)`;
    const owner = await store.readJson<BatchIndexEntry>(jobKeys.batch(batchId));
    if (!owner || owner.jobId !== jobId) return undefined;
    const record = await store.readJson<SubmissionRecord>(jobKeys.submission(jobId, owner.shardKey));
    if (record?.reconciled !== true || (await idsOf(owner.shardKey)).has(customId)) return undefined;
    return `lost create ${batchId} adopted crosswise by ${owner.shardKey}, whose own create had no answer`;
  };
}

/** For the report: where a request was sent, and who claimed each of those batches. */
async function describeExtra(store: BlobStore, jobId: string, r: OutcomeLine, containing: string[]): Promise<string> {
  const parts: string[] = [];
  for (const b of containing) {
    const owner = await store.readJson<BatchIndexEntry>(jobKeys.batch(b));
    const record = owner && (await store.readJson<SubmissionRecord>(jobKeys.submission(jobId, owner.shardKey)));
    parts.push(`${b} claimed by ${owner?.shardKey ?? 'nobody'} (record: ${record ? `${record.batchId ?? 'no batch'}${record.reconciled ? ', reconciled' : ''}` : 'none'})`);
  }
  return `${r.custom_id}: attempts ${r.attempts} in [${r.batch_ids.join(', ')}]; sent in ${parts.join('; ')}`;
}
