/**
 * Collect one ended batch: stream its results, decide each request's fate by the retry classes, and file the
 * outcomes (by the original shard they came from, so output keeps input order) and the requests to retry.
 * Every blob is written whole and sorted, so collecting the same batch twice writes the same bytes.
 */
import Anthropic from '@anthropic-ai/sdk';
import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { addUsage, emptyTally, type Usage } from '../domain/cost';
import { jobKeys, type OutcomeLine, type PackRecord, type ShardLine } from '../domain/job';
import { reconcileKeys } from '../domain/reconcile';
import { classifyResult, type BatchResult } from '../domain/retry';
import { decodeWireId, wireTag } from '../domain/wire-id';
import { recordCollected } from '../metrics';
import { FailureType, toApiFailure } from './api-failure';
import { streamBatchResults } from './results-stream';
import { perRow, unpackSucceeded } from './unpack';
import type { ActivityDeps } from './deps';
import type { BlobStore } from '../store/blob-store';
import type { CollectInput, CollectResult } from '../contracts/activities';

// Moved to src/contracts; re-exported so existing imports keep working.
export type { CollectInput, CollectResult };

const HEARTBEAT_EVERY = 1_000;
/** Attempts after which a 404 on the results of an ended batch means they are gone (deleted, or past 29 days). */
const RESULTS_NOT_FOUND_ATTEMPTS = 6;

export function collectActivity({ store, anthropic, prices }: ActivityDeps) {
  return async function collectBatch(input: CollectInput): Promise<CollectResult> {
    const { jobId, batchId } = input;
    const sent = await loadShard(store, jobId, input.shardKey);
    const outcomesByOrigin = new Map<number, OutcomeLine[]>();
    const retries: ShardLine[] = [];
    const result: CollectResult = { succeeded: 0, failed: 0, canceled: 0, retry: 0, tally: emptyTally(), reasons: {} };
    const seen = new Set<string>();
    const settle = (line: ShardLine, verdict: ReturnType<typeof classifyResult>, message?: unknown, free = false) => {
      const batchIds = [...line.batch_ids, batchId];
      const base = { custom_id: line.custom_id, line: line.line, attempts: line.attempt, batch_ids: batchIds, mode: 'batch' as const };
      let outcome: OutcomeLine;
      switch (verdict.outcome) {
        case 'retry':
          retries.push({ ...line, attempt: free ? line.attempt : line.attempt + 1, batch_ids: batchIds });
          result.retry++;
          count(result.reasons, verdict.reason.split(':')[0]!);
          return;
        case 'succeeded':
          outcome = { ...base, status: 'succeeded', message };
          result.succeeded++;
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
      file(line.origin, outcome);
    };
    const file = (origin: number, outcome: OutcomeLine) => {
      const list = outcomesByOrigin.get(origin) ?? [];
      list.push(outcome);
      outcomesByOrigin.set(origin, list);
    };
    // A packed request: answers filed per row, or (unusable answer) its rows sent again alone.
    const settlePack = (line: ShardLine, outcome: OutcomeLine) => {
      if (outcome.status !== 'succeeded') return perRow(line, outcome).forEach((o) => file(line.origin, o));
      const unpacked = unpackSucceeded(line, outcome);
      packRecords.push(unpacked.record);
      if (unpacked.usable) return unpacked.outcomes.forEach((o) => file(line.origin, o));
      result.succeeded--;
      retries.push(...unpacked.alone);
      result.retry += unpacked.alone.length;
      result.addedRequests = (result.addedRequests ?? 0) + unpacked.alone.length - 1;
      count(result.reasons, 'unusable_answer');
    };
    const packRecords: PackRecord[] = [];

    // Wire ids name the shard and line of each result; results of batches sent by older Sluice carry user custom_ids.
    const tag = wireTag(jobId);
    const shardLines = [...sent.values()];
    const lineOf = (customId: string): ShardLine | undefined => {
      const address = decodeWireId(customId);
      if (!address) return sent.get(customId);
      if (address.tag !== tag || address.shardKey !== input.shardKey) return undefined;
      return shardLines[address.index];
    };
    // Canceled by a reconciling submission to learn whose it was: its canceled requests never reached the model.
    const canceledToResolve = await store.exists(reconcileKeys.canceledToResolve(batchId));
    let foreign = 0;
    try {
      for await (const item of streamBatchResults(anthropic, batchId, input.resultsUrl)) {
        const line = lineOf(item.custom_id);
        if (!line) {
          foreign++; // not this shard's: reconciliation adopts only batches proven ours, so this is never expected
          continue;
        }
        if (seen.has(line.custom_id)) continue; // a repeated line: the first one counts
        seen.add(line.custom_id);
        const batchResult = item.result as BatchResult;
        const free = (input.freeCancel === true || canceledToResolve) && batchResult.type === 'canceled' && !input.jobCanceled;
        const verdict: ReturnType<typeof classifyResult> = free
          ? { outcome: 'retry', reason: canceledToResolve ? 'canceled to resolve a lost create' : 'canceled to make room' }
          : classifyResult(batchResult, { attempt: line.attempt, maxAttempts: input.maxAttempts, jobCanceled: input.jobCanceled });
        const message = batchResult.type === 'succeeded' ? batchResult.message : undefined;
        if (verdict.outcome === 'succeeded') {
          const m = message as { model?: string; usage?: Usage };
          result.tally = addUsage(result.tally, m.model ?? line.params.model, m.usage ?? {}, 'batch', prices);
        }
        settle(line, verdict, message, free);
        if (seen.size % HEARTBEAT_EVERY === 0) heartbeat({ lines: seen.size });
      }
    } catch (err) {
      // The poll saw this batch end; a 404 now is the API catching up (observed), unless it persists.
      const attempt = activityInfo().attempt;
      if (err instanceof Anthropic.NotFoundError && attempt < RESULTS_NOT_FOUND_ATTEMPTS) {
        throw ApplicationFailure.retryable(`download results of ${batchId}: not found yet (attempt ${attempt}); looking again`, FailureType.ApiRetryable);
      }
      throw toApiFailure(err, `download results of ${batchId}`);
    }
    if (foreign > 0) log.warn('Results that are not this shard\'s were left out', { batchId, shardKey: input.shardKey, lines: foreign });

    // A request the results left out has no outcome yet: it is sent again rather than lost.
    for (const line of sent.values()) {
      if (!seen.has(line.custom_id)) {
        settle(line, classifyResult({ type: 'expired' }, { attempt: line.attempt, maxAttempts: input.maxAttempts, jobCanceled: input.jobCanceled }));
      }
    }

    const byLine = (a: { line: number }, b: { line: number }) => a.line - b.line;
    if (retries.length > 0) {
      await store.writeLines(jobKeys.retries(jobId, batchId), retries.sort(byLine).map((l) => JSON.stringify(l)));
    }
    for (const [origin, outcomes] of outcomesByOrigin) {
      await store.writeLines(jobKeys.outcomes(jobId, origin, batchId), outcomes.sort(byLine).map((o) => JSON.stringify(o)));
    }
    if (packRecords.length > 0) {
      await store.writeLines(jobKeys.packs(jobId, batchId), packRecords.sort(byLine).map((r) => JSON.stringify(r)));
    }
    recordCollected(result); // metrics (src/metrics.ts)
    return result;
  };
}

async function loadShard(store: BlobStore, jobId: string, shardKey: string): Promise<Map<string, ShardLine>> {
  const lines = new Map<string, ShardLine>();
  for await (const text of store.readLines(jobKeys.shard(jobId, shardKey))) {
    const line = JSON.parse(text) as ShardLine;
    lines.set(line.custom_id, line);
  }
  return lines;
}

function count(record: Record<string, number>, key: string) {
  record[key] = (record[key] ?? 0) + 1;
}
