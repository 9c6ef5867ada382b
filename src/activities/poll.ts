/**
 * One poll covers every in-flight batch of a job: one retrieve each while few are in flight, else the list
 * endpoint (1,000 per page, newest first), so the cost of polling does not grow with the number of batches.
 * Returns only what the workflow acts on: the ended batches and totals, never whole objects.
 */
import type { MessageBatch } from '@anthropic-ai/sdk/resources/messages/batches';
import Anthropic from '@anthropic-ai/sdk';
import { log } from '@temporalio/activity';
import { toApiFailure } from './api-failure';
import type { ActivityDeps } from './deps';
import type { BatchTiming } from '../domain/job';
import { mapLimit } from '../domain/map-limit';
import { recordBatchEnded } from './report-records';
import type { PollInput, PollResult, RequestCounts } from '../contracts/activities';

/** A retrieve that answers 404 this soon after create is the API catching up, not a lost batch. */
const JUST_CREATED_MS = 120_000;
const RETRIEVE_CONCURRENCY = 8;
const RECORD_WRITE_CONCURRENCY = 16;

export function pollActivity({ anthropic, store, metrics }: ActivityDeps) {
  return async function pollBatches(input: PollInput): Promise<PollResult> {
    const found = new Map<string, MessageBatch>();
    let calls = 0;
    if (input.batches.length > input.listThreshold) {
      const wanted = new Set(input.batches.map((b) => b.batchId));
      const oldestMs = Math.min(...input.batches.map((b) => b.submittedAtMs)) - JUST_CREATED_MS;
      try {
        let page = await anthropic.messages.batches.list({ limit: 1000 });
        calls++;
        pages: for (;;) {
          for (const batch of page.data) {
            if (wanted.has(batch.id)) found.set(batch.id, batch);
            if (found.size === wanted.size || Date.parse(batch.created_at) < oldestMs) break pages;
          }
          if (!page.hasNextPage()) break;
          page = await page.getNextPage();
          calls++;
        }
      } catch (err) {
        throw toApiFailure(err, 'list batches');
      }
    }
    const missing = input.batches.filter((b) => !found.has(b.batchId));
    await mapLimit(missing, RETRIEVE_CONCURRENCY, async ({ batchId, submittedAtMs }) => {
      calls++;
      try {
        found.set(batchId, await anthropic.messages.batches.retrieve(batchId));
      } catch (err) {
        const justCreated = Date.now() - submittedAtMs < JUST_CREATED_MS;
        if (err instanceof Anthropic.NotFoundError && justCreated) {
          log.info('Batch not visible yet; will look again', { batchId });
          return;
        }
        throw toApiFailure(err, `retrieve ${batchId}`, { justCreated });
      }
    });

    const result: PollResult = {
      ended: [],
      canceling: [],
      open: { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      calls,
    };
    const ended: MessageBatch[] = [];
    for (const batch of found.values()) {
      const counts = { ...batch.request_counts };
      if (batch.processing_status === 'ended') {
        result.ended.push({ batchId: batch.id, counts, resultsUrl: batch.results_url ?? undefined });
        ended.push(batch);
        continue;
      }
      if (batch.processing_status === 'canceling') result.canceling.push(batch.id);
      for (const k of Object.keys(result.open) as (keyof RequestCounts)[]) result.open[k] += counts[k];
    }
    // One small blob per ended batch, for reports and latency models; a poll that sees a thousand end writes them
    // a few at a time instead of one after the other.
    await mapLimit(ended, RECORD_WRITE_CONCURRENCY, async (batch) => {
      await recordBatchEnded(store, batchTimingOf(batch)); // for reports, the timeline and latency models
    });
    metrics?.polled({ calls, inFlight: input.batches.length - result.ended.length, slaAtRisk: input.slaAtRisk });
    return result;
  };
}

/** What reports and latency models keep of an ended batch (also written by the account poll's walk). */
export function batchTimingOf(batch: MessageBatch): BatchTiming {
  const { succeeded, errored, canceled, expired, processing } = batch.request_counts;
  return {
    batchId: batch.id,
    createdAtMs: Date.parse(batch.created_at),
    endedAtMs: Date.parse(batch.ended_at ?? batch.created_at),
    ...(batch.cancel_initiated_at ? { cancelInitiatedAtMs: Date.parse(batch.cancel_initiated_at) } : {}),
    requests: succeeded + errored + canceled + expired + processing,
    counts: { succeeded, errored, canceled, expired },
    seenAtMs: Date.now(),
  };
}
