/**
 * Collect one ended batch: stream its results, decide each request's fate by the retry classes, and file the
 * outcomes (by the original shard they came from, so output keeps input order) and the requests to retry.
 * Every blob is written whole and sorted, so collecting the same batch twice writes the same bytes.
 */
import Anthropic from '@anthropic-ai/sdk';
import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { addUsage, emptyTally, type Usage } from '../domain/cost';
import { jobKeys, type OutcomeLine, type ShardLine } from '../domain/job';
import { classifyResult, type BatchResult } from '../domain/retry';
import { recordCollected } from '../metrics';
import { FailureType, toApiFailure } from './api-failure';
import { streamBatchResults } from './results-stream';
import type { ActivityDeps } from './deps';
import type { SubmissionRecord } from './submit';
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
    let sent = await loadShard(store, jobId, input.shardKey);
    const outcomesByOrigin = new Map<number, OutcomeLine[]>();
    const retries: ShardLine[] = [];
    const result: CollectResult = { succeeded: 0, failed: 0, canceled: 0, retry: 0, tally: emptyTally(), reasons: {} };
    const seen = new Set<string>();
    let items = 0;
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
      const list = outcomesByOrigin.get(line.origin) ?? [];
      list.push(outcome);
      outcomesByOrigin.set(line.origin, list);
    };

    try {
      for await (const item of streamBatchResults(anthropic, batchId, input.resultsUrl)) {
        items++;
        if (seen.size === 0 && !sent.has(item.custom_id)) {
          // A batch adopted by reconciliation may be another lost submission's (batches carry no metadata):
          // its results then belong to that shard, and are filed for its requests.
          sent = (await findOwnerShard(store, jobId, item.custom_id)) ?? sent;
        }
        const line = sent.get(item.custom_id);
        if (!line || seen.has(item.custom_id)) continue; // not ours, or a repeated line: first one counts
        seen.add(item.custom_id);
        const batchResult = item.result as BatchResult;
        const free = input.freeCancel === true && batchResult.type === 'canceled' && !input.jobCanceled;
        const verdict: ReturnType<typeof classifyResult> = free
          ? { outcome: 'retry', reason: 'canceled to make room' }
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

    // A batch adopted by reconciliation that holds none of this shard's requests was another submission's (whose
    // owner created its own again): this shard was never sent, so it goes again as the same attempt.
    const notOurs = items > 0 && seen.size === 0;
    // A request the results left out has no outcome yet: it is sent again rather than lost.
    for (const line of sent.values()) {
      if (notOurs) {
        retries.push(line);
        result.retry++;
        count(result.reasons, 'not_sent');
      } else if (!seen.has(line.custom_id)) {
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

/** Among the job's reconciled submissions, the shard that holds `customId`. */
async function findOwnerShard(store: BlobStore, jobId: string, customId: string): Promise<Map<string, ShardLine> | undefined> {
  for (const key of await store.list(jobKeys.submissionsOf(jobId))) {
    const record = await store.readJson<SubmissionRecord>(key);
    if (!record?.reconciled) continue;
    const lines = await loadShard(store, jobId, record.shardKey);
    if (lines.has(customId)) {
      log.warn('Results filed for the shard that owns them', { shardKey: record.shardKey });
      return lines;
    }
  }
  return undefined;
}

function count(record: Record<string, number>, key: string) {
  record[key] = (record[key] ?? 0) + 1;
}
