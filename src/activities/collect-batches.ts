/**
 * Collect the batches that ended together in one activity: each exactly as collectBatch collects it (the same
 * function), a few at once. One activity and one workflow task round trip for a round's batches instead of one per
 * batch. A batch that fails is returned with its failure and the rest are still collected; the workflow collects
 * the failed one again alone. After each batch the activity heartbeats what it has collected, so a retry (a worker
 * lost mid-way, a heartbeat timeout) skips those; collecting a batch twice writes the same bytes anyway.
 */
import { ApplicationFailure } from '@temporalio/common';
import { activityInfo, heartbeat } from '@temporalio/activity';
import { mapLimit } from '../domain/map-limit';
import { NEVER_RETRIED_ERROR_TYPES } from '../workflows/activity-options';
import { collectActivity } from './collect';
import type { ActivityDeps } from './deps';
import type { CollectBatchesInput, CollectBatchesResult, CollectResult } from '../contracts/activities';

/** Downloads in flight at once inside one activity: the work is on the activity thread, so a few overlap the waits. */
export const COLLECT_AT_ONCE = 4;

type Collected = CollectBatchesResult['collected'][number];
type Failed = CollectBatchesResult['failed'][number];

export function collectBatchesActivity(deps: ActivityDeps) {
  const collectOne = collectActivity(deps);
  return async function collectBatches(input: CollectBatchesInput): Promise<CollectBatchesResult> {
    const before = collectedBefore(activityInfo().heartbeatDetails);
    const wanted = new Set(input.batches.map((b) => b.batchId));
    const collected = new Map<string, CollectResult>(before.filter((c) => wanted.has(c.batchId)).map((c) => [c.batchId, c.result]));
    const failed = new Map<string, Failed>();
    // Every heartbeat carries the batches collected so far: the last details sent are what a retry reads, so the lines
    // of a download in progress go with them rather than in a heartbeat of their own.
    const reading = new Map<string, number>();
    const beat = () =>
      heartbeat({
        collected: [...collected].map(([batchId, result]): Collected => ({ batchId, result })),
        ...(reading.size > 0 && { lines: Object.fromEntries(reading) }),
      });
    await mapLimit(
      input.batches.filter((b) => !collected.has(b.batchId)),
      COLLECT_AT_ONCE,
      async (batch) => {
        let result: CollectResult;
        try {
          result = await collectOne(batch, (lines) => {
            reading.set(batch.batchId, lines);
            beat();
          });
        } catch (err) {
          failed.set(batch.batchId, { batchId: batch.batchId, ...failureOf(err) });
          return;
        } finally {
          reading.delete(batch.batchId);
        }
        collected.set(batch.batchId, result);
        beat();
      },
    );
    // In the order asked for: the workflow applies them in this order, whatever order the downloads ended in.
    return {
      collected: input.batches.flatMap((b) => {
        const result = collected.get(b.batchId);
        return result ? [{ batchId: b.batchId, result }] : [];
      }),
      failed: input.batches.flatMap((b) => failed.get(b.batchId) ?? []),
    };
  };
}

/** What a previous attempt heartbeated as collected (nothing if its last heartbeat was another kind). */
function collectedBefore(details: unknown): Collected[] {
  const list = (details as { collected?: unknown } | undefined)?.collected;
  return Array.isArray(list) ? (list as Collected[]) : [];
}

/** The failure as collectBatch would have thrown it: its type and message (which never hold requests or answers). */
function failureOf(err: unknown): Omit<Failed, 'batchId'> {
  if (err instanceof ApplicationFailure) return { type: err.type ?? 'Error', message: err.message, nonRetryable: err.nonRetryable === true };
  const type = err instanceof Error ? err.name : 'Error';
  return { type, message: err instanceof Error ? err.message : String(err), nonRetryable: NEVER_RETRIED_ERROR_TYPES.includes(type) };
}
