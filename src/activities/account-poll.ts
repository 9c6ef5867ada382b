/**
 * The account poll's two activities. `watchBatches` hands a job's batches in flight to the poller of its account
 * (signal-with-start, as requestRoom starts the scheduler): the worker knows the key, the workflow only learns the
 * poller's id, built from a fingerprint. `walkBatchList` is the poller's one walk of the list endpoint per tick:
 * pages of 1,000, newest first, stopping at the oldest watched batch, however many jobs it serves.
 * `recordEndedBatches` writes what the walk saw of ended batches, beside the walk rather than inside it.
 */
import type { MessageBatch } from '@anthropic-ai/sdk/resources/messages/batches';
import Anthropic from '@anthropic-ai/sdk';
import { activityInfo, Context } from '@temporalio/activity';
import type { BatchTiming } from '../domain/batch-timing';
import type {
  EndedBatch,
  RecordEndedInput,
  WalkBatchesInput,
  WalkBatchesResult,
  WatchBatchesInput,
  WatchBatchesResult,
} from '../contracts/activities';
import { watchBatchesSignal } from '../contracts/messages';
import { pollerWorkflowId } from '../contracts/workflow-ids';
import { mapLimit } from '../domain/map-limit';
import { sluicePoller } from '../workflows/poller';
import { accountFingerprint } from './account-key';
import { toApiFailure } from './api-failure';
import type { ActivityDeps } from './deps';
import { batchTimingOf } from './poll';
import { recordBatchEnded } from './report-records';

/** A batch this young may not be listed yet (the API catches up): it is looked for again at the next walk. */
const JUST_CREATED_MS = 120_000;
const LIST_PAGE = 1_000;
// Records of what ended are written wide: small blobs, many at once.
const RECORD_WRITE_CONCURRENCY = 64;
/** About 250 bytes each: at most about 250 KB of timings in a walk's result. */
export const TIMINGS_HANDED_BACK = 1_000;

/**
 * The account a poller serves: the key, and the endpoint it is used against (the same key through another base URL,
 * an emulator or a proxy, is another list of batches).
 */
export function pollerAccountOf(anthropic: Anthropic): string {
  return accountFingerprint(`${anthropic.baseURL}\n${anthropic.apiKey ?? ''}`);
}

export function watchBatchesActivity({ anthropic, accountPoll, pollerTaskQueue, metrics }: ActivityDeps) {
  return async function watchBatches(input: WatchBatchesInput): Promise<WatchBatchesResult> {
    if (accountPoll === false) return {};
    // A running poller keeps the queue it was started on; only a new one starts on this worker's choice.
    const taskQueue = pollerTaskQueue ?? activityInfo().taskQueue;
    const pollerId = pollerWorkflowId(pollerAccountOf(anthropic));
    await Context.current().client.workflow.signalWithStart(sluicePoller, {
      workflowId: pollerId,
      taskQueue,
      args: [{}],
      signal: watchBatchesSignal,
      signalArgs: [input],
      staticSummary: 'Sluice poller: one walk of the batch list per tick for every job of this account',
    });
    // The poller's walk counts the batches in flight; the job's SLA state is the job's to tell.
    if (input.slaAtRisk !== undefined) metrics?.slaState(input.slaAtRisk, input.jobId);
    return { pollerId };
  };
}

export function walkBatchListActivity({ anthropic: client, store, metrics }: ActivityDeps) {
  // One SDK retry at most: a walk that fails is simply the next tick's to do, and a long retry would hold the poller.
  const anthropic = client.withOptions({ maxRetries: 1 });
  return async function walkBatchList({ watched, recordsOutside }: WalkBatchesInput): Promise<WalkBatchesResult> {
    const wanted = new Set(watched.map((b) => b.batchId));
    const found = new Map<string, MessageBatch>();
    let calls = 0;
    if (watched.length > 0) {
      const stopBeforeMs = Math.min(...watched.map((b) => b.submittedAtMs)) - JUST_CREATED_MS;
      try {
        let page = await anthropic.messages.batches.list({ limit: LIST_PAGE });
        calls++;
        pages: for (;;) {
          for (const batch of page.data) {
            if (wanted.has(batch.id)) found.set(batch.id, batch);
            if (found.size === wanted.size || Date.parse(batch.created_at) < stopBeforeMs) break pages;
          }
          if (!page.hasNextPage()) break;
          page = await page.getNextPage();
          calls++;
        }
      } catch (err) {
        throw toApiFailure(err, 'list batches');
      }
    }
    // A batch old enough to be listed that the walk passed without seeing: asked for by id, so it is never lost.
    const newestListedMs = Date.now() - JUST_CREATED_MS;
    const unseen = watched.filter((b) => !found.has(b.batchId) && b.submittedAtMs < newestListedMs);
    await mapLimit(unseen, 4, async ({ batchId }) => {
      calls++;
      try {
        found.set(batchId, await anthropic.messages.batches.retrieve(batchId));
      } catch (err) {
        if (err instanceof Anthropic.NotFoundError) return; // the job's own poll, after the silence limit, decides
        throw toApiFailure(err, `retrieve ${batchId}`);
      }
    });

    const ended: EndedBatch[] = [];
    const endedBatches: MessageBatch[] = [];
    for (const batch of found.values()) {
      if (batch.processing_status !== 'ended') continue;
      ended.push({ batchId: batch.id, ...(batch.results_url ? { resultsUrl: batch.results_url } : {}) });
      endedBatches.push(batch);
    }
    metrics?.polled({ calls, inFlight: watched.length - ended.length });
    const timings = endedBatches.map(batchTimingOf);
    // Handed back: a small write per ended batch (hundreds a walk with many jobs) would hold the poller, waiting for
    // the store behind every job's own activities. The timings travel in the poller's history twice (this result, the
    // records activity's input), so past a bound (thousands ended at once, after an outage) the rest is written here,
    // keeping both payloads far under Temporal's 2 MB.
    if (recordsOutside) {
      await writeRecords(store, timings.slice(TIMINGS_HANDED_BACK));
      return { ended, calls, timings: timings.slice(0, TIMINGS_HANDED_BACK) };
    }
    await writeRecords(store, timings);
    return { ended, calls };
  };
}

/** The same records the job's own poll writes, for reports and latency models. Idempotent: run twice, same records. */
export function recordEndedBatchesActivity({ store }: ActivityDeps) {
  return async function recordEndedBatches({ timings }: RecordEndedInput): Promise<{ recorded: number }> {
    await writeRecords(store, timings);
    return { recorded: timings.length };
  };
}

async function writeRecords(store: ActivityDeps['store'], timings: readonly BatchTiming[]): Promise<void> {
  await mapLimit(timings, RECORD_WRITE_CONCURRENCY, async (t) => {
    await recordBatchEnded(store, t);
  });
}
