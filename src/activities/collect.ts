/**
 * Collect one ended batch: stream its results, decide each request's fate by the retry classes, and file the
 * outcomes (by the original shard they came from, so output keeps input order) and the requests to retry.
 * Every blob is written whole and sorted, so collecting the same batch twice writes the same bytes.
 */
import Anthropic from '@anthropic-ai/sdk';
import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { addUsage, emptyTally, type Usage } from '../domain/cost';
import { canaryStops } from '../domain/canary';
import { jobKeys, type DiscardedAnswer, type OutcomeLine, type PackRecord, type ShardLine } from '../domain/job';
import { checkOutput } from '../domain/output-check';
import { outputCheckOf, type CompiledCheck } from './output-check';
import { reconcileKeys } from '../domain/reconcile';
import { classifyResult, type BatchResult, type ResultVerdict } from '../domain/retry';
import { decodeWireId, wireTag } from '../domain/wire-id';
import { FailureType, isLastAttempt, toApiFailure } from './api-failure';
import { streamBatchResultRuns } from './results-stream';
import { outcomeLineWithMessage, succeededMessageText } from '../domain/result-line-text';
import { perRow, unpackSucceeded } from './unpack';
import type { ActivityDeps } from './deps';
import { allLines, type BlobStore } from '../store/blob-store';
import type { CollectInput, CollectResult } from '../contracts/activities';

// Moved to src/contracts; re-exported so existing imports keep working.
export type { CollectInput, CollectResult };

const HEARTBEAT_EVERY = 1_000;
/** Attempts after which a 404 on the results of an ended batch means they are gone (deleted, or past 29 days). */
const RESULTS_NOT_FOUND_ATTEMPTS = 6;

export function collectActivity({ store, anthropic, prices, metrics }: ActivityDeps) {
  /** `progress`: where the lines read so far are reported; a group's activity folds them into its own heartbeat. */
  return async function collectBatch(input: CollectInput, progress: (lines: number) => void = (lines) => heartbeat({ lines })): Promise<CollectResult> {
    const { jobId, batchId } = input;
    const sent = await loadShard(store, jobId, input.shardKey);
    const outcomesByOrigin = new Map<number, FiledOutcome[]>();
    const retries: ShardLine[] = [];
    const result: CollectResult = { succeeded: 0, failed: 0, canceled: 0, retry: 0, tally: emptyTally(), reasons: {} };
    // By the line's place in the shard: a repeated result line is told without a set of its custom_id.
    const seen = new Uint8Array(sent.length);
    let seenCount = 0;
    const check = input.outputCheck ? await outputCheckOf(store, jobId, input.outputCheck) : undefined;
    // Every request's fate, settled once all are known: a canary's verdict depends on all of them.
    const decided: Decided[] = [];
    const settle = ({ line, verdict, message, messageText, free }: Decided) => {
      const batchIds = [...line.batch_ids, batchId];
      const base = { custom_id: line.custom_id, line: line.line, attempts: line.attempt, batch_ids: batchIds, mode: 'batch' as const, ...(line.discarded && { discarded: line.discarded }) };
      let outcome: OutcomeLine;
      switch (verdict.outcome) {
        case 'retry': {
          // An answer that failed the check was paid for: its usage goes with the request, for the summary's cost.
          const discarded = verdict.discarded ? [...(line.discarded ?? []), verdict.discarded] : line.discarded;
          retries.push({ ...line, attempt: free ? line.attempt : line.attempt + 1, batch_ids: batchIds, ...(discarded && { discarded }) });
          result.retry++;
          count(result.reasons, verdict.reason.split(':')[0]!);
          return;
        }
        case 'succeeded':
          result.succeeded++;
          // The answer as the API sent it: serializing the parsed message again was most of this activity's writing.
          if (messageText !== undefined && !line.pack) return file(line.origin, line.line, outcomeLineWithMessage({ ...base, status: 'succeeded' }, messageText));
          outcome = { ...base, status: 'succeeded', message };
          break;
        case 'invalid_output':
          outcome = { ...base, status: 'invalid_output', message, error: { type: verdict.code, message: verdict.message } };
          result.invalidOutput = (result.invalidOutput ?? 0) + 1;
          count(result.reasons, 'invalid_output');
          break;
        case 'canceled':
          outcome = { ...base, status: 'canceled' };
          result.canceled++;
          break;
        case 'failed':
          outcome = { ...base, status: 'failed', error: { type: verdict.errorType, message: verdict.message } };
          result.failed++;
          count(result.reasons, verdict.errorType);
          break;
      }
      if (line.pack) return settlePack(line, outcome);
      fileOutcome(line.origin, outcome);
    };
    const file = (origin: number, lineNumber: number, text: string) => {
      const list = outcomesByOrigin.get(origin);
      if (list) list.push({ line: lineNumber, text });
      else outcomesByOrigin.set(origin, [{ line: lineNumber, text }]);
    };
    const fileOutcome = (origin: number, outcome: OutcomeLine) => file(origin, outcome.line, JSON.stringify(outcome));
    // A packed request: answers filed per row, or (unusable answer) its rows sent again alone.
    const settlePack = (line: ShardLine, outcome: OutcomeLine) => {
      if (outcome.status !== 'succeeded') return perRow(line, outcome).forEach((o) => fileOutcome(line.origin, o));
      const unpacked = unpackSucceeded(line, outcome);
      packRecords.push(unpacked.record);
      if (unpacked.usable) return unpacked.outcomes.forEach((o) => fileOutcome(line.origin, o));
      result.succeeded--;
      retries.push(...unpacked.alone);
      result.retry += unpacked.alone.length;
      result.addedRequests = (result.addedRequests ?? 0) + unpacked.alone.length - 1;
      count(result.reasons, 'unusable_answer');
    };
    const packRecords: PackRecord[] = [];

    // Wire ids name the shard and line of each result; results of batches sent by older Sluice carry user custom_ids.
    const tag = wireTag(jobId);
    let byCustomId: Map<string, number> | undefined;
    /** The shard index a result line answers, or -1 for one that is not this shard's. */
    const indexOf = (customId: string): number => {
      const address = decodeWireId(customId);
      if (!address) {
        byCustomId ??= new Map(sent.map((l, i) => [l.custom_id, i]));
        return byCustomId.get(customId) ?? -1;
      }
      if (address.tag !== tag || address.shardKey !== input.shardKey || address.index >= sent.length) return -1;
      return address.index;
    };
    // Canceled by a reconciling submission to learn whose it was: its canceled requests never reached the model.
    const canceledToResolve = await store.exists(reconcileKeys.canceledToResolve(batchId));
    let foreign = 0;
    try {
      for await (const run of streamBatchResultRuns(anthropic, batchId, input.resultsUrl)) for (const { item, text } of run) {
        const index = indexOf(item.custom_id);
        if (index < 0) {
          foreign++; // not this shard's: reconciliation adopts only batches proven ours, so this is never expected
          continue;
        }
        if (seen[index] === 1) continue; // a repeated line: the first one counts
        seen[index] = 1;
        seenCount++;
        const line = sent[index]!;
        const batchResult = item.result as BatchResult;
        const free = (input.freeCancel === true || canceledToResolve) && batchResult.type === 'canceled' && !input.jobCanceled;
        const classified: Verdict = free
          ? { outcome: 'retry', reason: canceledToResolve ? 'canceled to resolve a lost create' : 'canceled to make room' }
          : classifyResult(batchResult, { attempt: line.attempt, maxAttempts: input.maxAttempts, jobCanceled: input.jobCanceled });
        const message = batchResult.type === 'succeeded' ? batchResult.message : undefined;
        let verdict: Verdict = classified;
        if (verdict.outcome === 'succeeded') {
          // Paid for, whether or not it passes the check.
          const m = message as { model?: string; usage?: Usage };
          result.tally = addUsage(result.tally, m.model ?? line.params.model, m.usage ?? {}, 'batch', prices);
          if (check) verdict = checkedVerdict(check, message, line, input.maxAttempts);
        }
        const messageText = verdict.outcome === 'succeeded' && text !== undefined ? succeededMessageText(text, item) : undefined;
        // A succeeded answer filed as its text needs its parsed message no more: dropped here, a sub-batch's parsed
        // answers do not live to the end of the activity (less for each young-generation collection to copy).
        const keep = messageText === undefined || line.pack ? message : undefined;
        decided.push({ line, verdict, message: keep, messageText, free });
        if (seenCount % HEARTBEAT_EVERY === 0) progress(seenCount);
      }
    } catch (err) {
      // The poll saw this batch end; a 404 now is the API catching up (observed), unless it persists.
      const attempt = activityInfo().attempt;
      if (err instanceof Anthropic.NotFoundError && attempt < RESULTS_NOT_FOUND_ATTEMPTS) {
        throw ApplicationFailure.retryable(`download results of ${batchId}: not found yet (attempt ${attempt}); looking again`, FailureType.ApiRetryable);
      }
      if (err instanceof Anthropic.NotFoundError) throw await resultsGoneFailure(anthropic, batchId, attempt, err);
      throw toApiFailure(err, `download results of ${batchId}`);
    }
    if (foreign > 0) log.warn('Results that are not this shard\'s were left out', { batchId, shardKey: input.shardKey, lines: foreign });

    // Fewer lines than requests: a download that ended early without an error (a proxy closing at a line boundary)
    // would otherwise send answered requests again. Only what the API itself left out is sent again.
    if (seenCount < sent.length) await checkDownloadWhole(anthropic, batchId, seenCount, sent.length);
    // A request the results left out has no outcome yet: it is sent again rather than lost.
    sent.forEach((line, index) => {
      if (seen[index] === 1) return;
      decided.push({ line, verdict: classifyResult({ type: 'expired' }, { attempt: line.attempt, maxAttempts: input.maxAttempts, jobCanceled: input.jobCanceled }), free: false });
    });
    // The canary: too many failures and its failures are final, reported rather than retried (the job stops).
    if (input.canary) {
      const failed = decided.filter((d) => !d.free && d.verdict.outcome !== 'succeeded' && d.verdict.outcome !== 'canceled').length;
      const stopped = canaryStops(failed, decided.length, input.canary.maxFailurePercent);
      result.canary = { requests: decided.length, failed, stopped };
      if (stopped) for (const d of decided) d.verdict = finalForCanary(d.verdict);
    }
    for (const d of decided) settle(d);

    const byLine = (a: { line: number }, b: { line: number }) => a.line - b.line;
    if (retries.length > 0) {
      await store.writeLines(jobKeys.retries(jobId, batchId), retries.sort(byLine).map((l) => JSON.stringify(l)));
    }
    for (const [origin, outcomes] of outcomesByOrigin) {
      await store.writeLines(jobKeys.outcomes(jobId, origin, batchId), outcomes.sort(byLine).map((o) => o.text));
    }
    if (packRecords.length > 0) {
      await store.writeLines(jobKeys.packs(jobId, batchId), packRecords.sort(byLine).map((r) => JSON.stringify(r)));
    }
    metrics?.collected(result);
    return result;
  };
}

/**
 * A 404 on results that lasts: says why when the API can tell. An archived batch (results are kept 29 days after
 * create) or a deleted one will not come back, so the job stops with what it has and names the batch.
 */
async function resultsGoneFailure(anthropic: Anthropic, batchId: string, attempt: number, err: unknown): Promise<ApplicationFailure> {
  let archivedAt: string | null | undefined;
  try {
    archivedAt = (await anthropic.messages.batches.retrieve(batchId)).archived_at;
  } catch (retrieveErr) {
    if (!(retrieveErr instanceof Anthropic.NotFoundError)) return toApiFailure(err, `download results of ${batchId}`);
    return ApplicationFailure.create({
      message: `download results of ${batchId}: the batch is gone (404 on its results ${attempt} times, and on the batch itself): it was deleted`,
      type: FailureType.ResultsGone,
      nonRetryable: true,
    });
  }
  if (archivedAt === null || archivedAt === undefined) return toApiFailure(err, `download results of ${batchId}`);
  return ApplicationFailure.create({
    message: `download results of ${batchId}: the results are gone, archived at ${archivedAt} (the API keeps them 29 days after create); 404 ${attempt} times`,
    type: FailureType.ResultsGone,
    nonRetryable: true,
  });
}

/** Throws (retryably) when the batch holds more results than the download read: the download is read again whole. */
async function checkDownloadWhole(anthropic: Anthropic, batchId: string, read: number, expected: number): Promise<void> {
  let counts;
  try {
    counts = (await anthropic.messages.batches.retrieve(batchId)).request_counts;
  } catch (err) {
    throw toApiFailure(err, `retrieve ${batchId} to check the length of its results`);
  }
  const results = counts.succeeded + counts.errored + counts.canceled + counts.expired;
  if (results < expected) return; // the API has no result for some requests: they are sent again
  const message = `download results of ${batchId}: read ${read} of its ${results} result lines (the download ended early)`;
  if (isLastAttempt()) {
    throw ApplicationFailure.create({ message: `${message}, on every attempt`, type: FailureType.AttemptsExhausted, nonRetryable: true });
  }
  throw ApplicationFailure.retryable(`${message}; downloading again`, FailureType.ApiRetryable);
}

/** A verdict, with what the output check adds: an answer that failed it, retried (its usage kept) or final. */
type Verdict =
  | Exclude<ResultVerdict, { outcome: 'retry' }>
  | { outcome: 'retry'; reason: string; discarded?: DiscardedAnswer; check?: { code: string; message: string } }
  | { outcome: 'invalid_output'; code: string; message: string };

/** A succeeded answer through the output check: succeeded, another attempt, or invalid_output on the last one. */
function checkedVerdict(check: CompiledCheck, message: unknown, line: ShardLine, maxAttempts: number): Verdict {
  const v = checkOutput(message, check.schema);
  if (v.ok) return { outcome: 'succeeded' };
  if (line.attempt < maxAttempts) {
    const m = message as { model?: string; usage?: Usage };
    return {
      outcome: 'retry',
      reason: 'invalid_output',
      discarded: { model: m.model ?? line.params.model, usage: m.usage ?? {} },
      check: { code: v.code, message: v.message },
    };
  }
  const attempts = `${line.attempt} attempt${line.attempt === 1 ? '' : 's'}`;
  return { outcome: 'invalid_output', code: v.code, message: `${v.message} (after ${attempts})` };
}

/** A canary that stopped the job: what would have been retried is reported as it stands. */
function finalForCanary(v: Verdict): Verdict {
  if (v.outcome !== 'retry') return v;
  if (v.check) return { outcome: 'invalid_output', code: v.check.code, message: `${v.check.message} (in the canary, which stopped the job)` };
  const [type, ...rest] = v.reason.split(': ');
  const why = rest.join(': ');
  return { outcome: 'failed', errorType: type!, message: `${why ? `${why}; ` : ''}in the canary, which stopped the job (not retried)` };
}

/** The shard's lines in order: a wire id names its line by place. */
async function loadShard(store: BlobStore, jobId: string, shardKey: string): Promise<ShardLine[]> {
  return (await allLines(store, jobKeys.shard(jobId, shardKey))).map((text) => JSON.parse(text) as ShardLine);
}

/** A request's fate, settled once all are known; a succeeded answer's text as received, when it could be cut. */
interface Decided {
  line: ShardLine;
  verdict: Verdict;
  message?: unknown;
  messageText?: string;
  free: boolean;
}

/** An outcome line, by the input line it answers (files are sorted by it, so a second collect writes the same bytes). */
interface FiledOutcome {
  line: number;
  text: string;
}

function count(record: Record<string, number>, key: string) {
  record[key] = (record[key] ?? 0) + 1;
}
