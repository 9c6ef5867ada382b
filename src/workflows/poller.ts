/**
 * One poller per namespace and API key: jobs register the batches they have in flight (the whole set, again and
 * again), the poller walks the account's batch list once per tick for all of them, at the fastest cadence any job
 * needs, and tells each job which of its batches ended. Jobs collect as before. Started by the first job's
 * signal-with-start (src/activities/account-poll.ts); ends when idle; drops jobs that stop refreshing. Jobs do not
 * depend on it: a terminated or restarted poller costs them a delay (they re-register, or poll on their own after
 * a silence), never a hang.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SluiceActivities, WalkBatchesResult } from '../contracts/activities';
import { batchesEndedSignal, pollerQuery, watchBatchesSignal } from '../contracts/messages';
import { shortCallRetry } from './activity-options';
import {
  afterWalk,
  applyWatch,
  dropMember,
  expireMembers,
  initialPollerState,
  nextWalkAtMs,
  pollerView,
  watchedBatches,
  type PollerState,
} from './poller-decisions';

export interface PollerInput {
  /** Present when the poller continues as new. */
  state?: PollerState;
}

const MAX_HISTORY_EVENTS = 5_000;
const IDLE_EXIT_MS = 10 * 60_000;

/**
 * A local activity: the walk is one short call, and as a task in the queue it would wait behind every job's submits
 * and downloads (a thousand at the start of a large run), which is exactly when the jobs need it. A walk that keeps
 * failing gives up soon: jobs are told nothing this tick, the next tick tries again.
 */
const { walkBatchList } = proxyLocalActivities<SluiceActivities>({
  startToCloseTimeout: '1m',
  retry: { ...shortCallRetry, maximumAttempts: 2 },
});

/**
 * The records of what a walk saw ended (two small writes per batch), written beside the walk by an activity the
 * poller does not wait for: in the walk they held the poller behind the store, hundreds of writes a walk with fifty
 * jobs. Nobody waits on them but reports; a record that keeps failing is given up (the reports' timeline loses a
 * point, no result is lost).
 */
const { recordEndedBatches } = proxyActivities<SluiceActivities>({
  startToCloseTimeout: '1m',
  retry: { ...shortCallRetry, maximumAttempts: 10 },
});

/** patched() id: the walk hands its records back and `recordEndedBatches` writes them, not waited for. */
export const POLLER_RECORDS_OUTSIDE_WALK = 'poller-records-outside-walk';

export async function sluicePoller(input: PollerInput): Promise<void> {
  const state = input.state ?? initialPollerState();
  const recordsOutside = patched(POLLER_RECORDS_OUTSIDE_WALK);
  let recording = 0;
  const record = (timings: NonNullable<WalkBatchesResult['timings']>) => {
    recording++;
    void recordEndedBatches({ timings })
      .catch(() => undefined)
      .finally(() => recording--);
  };
  const settled = () => recording === 0 && allHandlersFinished();
  let registered = false;
  setHandler(watchBatchesSignal, (w) => {
    applyWatch(state, w, Date.now());
    registered = true;
  });
  setHandler(pollerQuery, () => pollerView(state));

  for (;;) {
    expireMembers(state, Date.now());
    const dueAtMs = nextWalkAtMs(state);
    if (dueAtMs === undefined) {
      // Nobody watched for a while: end; the next job's signal-with-start begins a new poller.
      registered = false;
      const woken = await condition(() => registered, IDLE_EXIT_MS);
      if (!woken && state.members.length === 0) {
        await condition(settled);
        return;
      }
      continue;
    }
    const waitMs = dueAtMs - Date.now();
    if (waitMs > 0) {
      // Wake early only for a job due sooner than this walk (a new one), not for every refresh.
      await condition(() => (nextWalkAtMs(state) ?? Infinity) < dueAtMs, waitMs);
      continue;
    }

    const watched = watchedBatches(state);
    let walk: WalkBatchesResult | undefined;
    try {
      walk = await walkBatchList(recordsOutside ? { watched, recordsOutside } : { watched });
    } catch {
      walk = undefined;
    }
    const nowMs = Date.now();
    if (walk?.timings?.length) record(walk.timings);
    if (walk) {
      // Sent without waiting for each job's delivery: the next tick's timer starts in this same workflow task, not a
      // round trip per job later. A job that no longer runs watches nothing.
      for (const { jobId, report } of afterWalk(state, walk, watched.length, nowMs)) {
        getExternalWorkflowHandle(jobId)
          .signal(batchesEndedSignal, report)
          .catch(() => dropMember(state, jobId));
      }
    } else {
      for (const m of state.members) m.dueAtMs = nowMs + m.intervalMs;
    }
    setCurrentDetails(detailsOf(state));

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS) {
      await condition(settled);
      await continueAsNew<typeof sluicePoller>({ state });
    }
  }
}

function detailsOf(state: PollerState): string {
  const s = state.stats;
  const batches = state.members.reduce((n, m) => n + m.batches.length, 0);
  return [
    `Watching ${batches} batches of ${state.members.length} jobs; ${s.walks} walks of the batch list, ${s.calls} calls (at most ${s.maxCallsPerWalk} in one walk)`,
    '',
    '| job | batches | interval |',
    '|---|---|---|',
    ...state.members.slice(0, 50).map((m) => `| ${m.jobId} | ${m.batches.length} | ${m.intervalMs} ms |`),
  ].join('\n');
}
