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
import type { SubmissionRecord } from '../../src/domain/submission-records';
import { userIdOf } from '../../src/client/wire-ids';
import type { BlobStore } from '../../src/store/blob-store';
import { verifySyncResults } from './verify-sync';

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
  /** Synchronous calls accepted beyond one per request: answers lost (reset, or the worker killed) and sent again. */
  syncResent: number;
  /** Requests that ended on the synchronous path. */
  syncRequests: number;
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

  // Requests sent by batch are checked against the batches; synchronous ones against the calls (verify-sync.ts).
  const batchResults = results.filter((r) => r.mode !== 'sync');
  const sync = verifySyncResults(results, input, v.stats);
  checks.push(...sync.checks);

  // 2. What the API answers for every batch it created: which of this job's requests each held (read back from the
  //    wire ids through the store), and their results.
  const api = new Anthropic({ apiKey: v.api.apiKey, baseURL: v.api.url, maxRetries: 8 });
  const answers = new Map<string, Map<string, { wireId: string; result: MessageBatchIndividualResponse['result'] }>>();
  const batchesOf = new Map<string, string[]>();
  const shardCache = new Map<string, string[]>();
  for (const { batchId } of v.stats.createLog) {
    const lines = new Map<string, { wireId: string; result: MessageBatchIndividualResponse['result'] }>();
    for await (const item of await api.messages.batches.results(batchId)) {
      const user = await userIdOf(v.store, item.custom_id, shardCache);
      if (user?.jobId !== v.jobId) continue;
      lines.set(user.customId, { wireId: item.custom_id, result: item.result });
      batchesOf.set(user.customId, [...(batchesOf.get(user.customId) ?? []), batchId]);
    }
    answers.set(batchId, lines);
  }
  // Sends per request of this job, summed over the wire ids of its attempts.
  const sends = new Map<string, number>();
  for (const [wireId, s] of Object.entries(v.stats.submissions)) {
    const user = await userIdOf(v.store, wireId, shardCache);
    if (user?.jobId === v.jobId) sends.set(user.customId, (sends.get(user.customId) ?? 0) + s.batch);
  }

  // 3. Succeeded results are the API's: the message of the last batch the request was in, and the message the
  //    emulator derives from that custom_id and those params (so the params were sent intact).
  const params = new Map(input.map((r) => [r.custom_id, r.params]));
  let matched = 0;
  const mismatched: string[] = [];
  let failuresAgree = 0;
  const failuresDisagree: string[] = [];
  for (const r of batchResults) {
    const last = r.batch_ids.at(-1);
    const held = last === undefined ? undefined : answers.get(last)?.get(r.custom_id);
    const answer = held?.result;
    if (r.status === 'succeeded') {
      // The emulator derives a message from what went on the wire: the wire id and the params.
      const derived = syntheticMessage(held?.wireId ?? '', summariseParams(params.get(r.custom_id) as Record<string, unknown>), 'batch');
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
    `${matched} of ${batchResults.filter((r) => r.status === 'succeeded').length}`,
    mismatched.length === 0,
    mismatched.length ? `differ: ${mismatched.slice(0, 5).join(', ')}` : 'message id and text equal to the batch results and to the emulator derivation',
  );
  add(
    "failures are the API's last answer",
    `${failuresAgree} of ${batchResults.filter((r) => r.status === 'failed').length}`,
    failuresDisagree.length === 0,
    failuresDisagree.length ? `differ: ${failuresDisagree.slice(0, 5).join(', ')}` : 'terminal error type, or a retryable one after max attempts',
  );

  // 4. Sends against attempts. A request's batch_ids are the batches it was sent in: one per attempt, plus any batch
  //    canceled before it reached the model (canceled to make room or to learn whose a lost create was), which is
  //    free. A request the API received more often than the batches it names was paid for twice.
  const claimed = new Set<string>();
  for (const { batchId } of v.stats.createLog) if (await v.store.exists(jobKeys.batch(batchId))) claimed.add(batchId);
  const orphanBatches = v.stats.createLog.map((c) => c.batchId).filter((id) => !claimed.has(id));
  let equal = 0;
  let beyond = 0;
  const fewer: string[] = [];
  const more: string[] = [];
  const idsWrong: string[] = [];
  for (const r of results) {
    const sent = sends.get(r.custom_id) ?? 0;
    const containing = batchesOf.get(r.custom_id) ?? [];
    // A synchronous attempt has no batch: only the batch attempts are named.
    const batchAttempts = r.mode === 'sync' ? r.attempts - 1 : r.attempts;
    if (r.batch_ids.length < batchAttempts || r.batch_ids.some((b) => !containing.includes(b))) idsWrong.push(r.custom_id);
    if (sent === r.batch_ids.length) equal++;
    else if (sent < r.batch_ids.length) fewer.push(r.custom_id);
    else {
      more.push(r.custom_id);
      beyond += sent - r.batch_ids.length;
    }
  }
  add(
    'requests sent beyond their attempts',
    `${beyond} (${equal} equal, ${fewer.length} fewer, ${more.length} more)`,
    more.length === 0 && fewer.length === 0,
    more.length > 0
      ? `paid twice: ${more.slice(0, 5).join(', ')}`
      : 'emulator stats (by wire id) against the batches each result names',
  );
  add(
    'batch_ids: every attempt, each held the request',
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
  return { checks, outcomes, attempts, reconciledSubmissions, orphanBatches, syncResent: sync.resent, syncRequests: sync.requests };
}

function isRetryable(type: string | undefined): boolean {
  return ['api_error', 'overloaded_error', 'rate_limit_error', 'timeout_error', 'expired', 'canceled'].includes(type ?? '');
}
