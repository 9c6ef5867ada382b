/**
 * One scheduler per namespace and API key hands out room in the account's batch queue: jobs ask for room,
 * it grants by priority, earliest deadline and arrival, and tells less urgent holders to step aside when a more
 * urgent job waits. Jobs give room back as their batches end. Started by the first job's signal-with-start.
 * Jobs refresh their request with what they hold, so a scheduler that was terminated is rebuilt by the next
 * refreshes, and a member that stops refreshing (a terminated job) expires and its room returns to the pool.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { freeRoom, planQueue, urgencyOrder, type QueueCapacity, type QueueMember } from '../domain/queue';
import { expiredMembers, memberAfterAsk, nextExpiryAtMs, rebuildUntilMs } from '../domain/queue-membership';
import {
  leaveQueueSignal,
  grantRoomSignal,
  preemptSignal,
  queueQuery,
  releaseRoomSignal,
  requestRoomSignal,
  type QueueView,
} from '../contracts/messages';
import { schedulerWorkflowId } from '../contracts/workflow-ids';

// Moved to src/contracts; re-exported so existing imports keep working.
export { schedulerWorkflowId };

export interface SchedulerInput {
  capacity: QueueCapacity;
  members?: QueueMember[];
  arrivals?: number;
}

const MAX_HISTORY_EVENTS = 5_000;
const IDLE_EXIT_MS = 10 * 60_000;


export async function sluiceScheduler(input: SchedulerInput): Promise<void> {
  const capacity = input.capacity;
  let members: QueueMember[] = input.members ?? [];
  let arrivals = input.arrivals ?? 0;
  let dirty = true;
  /** Set when this run finds it lost its members (it was terminated and started again): no grants until then. */
  let rebuildUntil: number | undefined;

  setHandler(requestRoomSignal, (r) => {
    const i = members.findIndex((x) => x.jobId === r.jobId);
    rebuildUntil = rebuildUntilMs(i !== -1, r, Date.now(), rebuildUntil);
    const m = memberAfterAsk(members[i], r, arrivals, Date.now());
    if (i === -1) {
      arrivals++;
      members.push(m);
    } else members[i] = m;
    dirty = true;
  });
  setHandler(releaseRoomSignal, ({ jobId, room }) => {
    const m = members.find((x) => x.jobId === jobId);
    if (!m) return;
    m.held = {
      requests: Math.max(0, m.held.requests - room.requests),
      batches: Math.max(0, m.held.batches - room.batches),
    };
    dirty = true;
  });
  setHandler(leaveQueueSignal, ({ jobId }) => {
    members = members.filter((x) => x.jobId !== jobId);
    dirty = true;
  });
  setHandler(queueQuery, () => {
    const v = view(members, capacity);
    return rebuildUntil !== undefined && Date.now() < rebuildUntil ? { ...v, rebuildingUntilMs: rebuildUntil } : v;
  });

  for (;;) {
    // With no job left for a while the scheduler ends; the next job's signal-with-start begins a new one.
    // Members that refresh wake it when the first of them would expire (older members never expire).
    const rebuilding = rebuildUntil !== undefined && Date.now() < rebuildUntil;
    const expiry = rebuilding ? Math.min(rebuildUntil!, nextExpiryAtMs(members) ?? rebuildUntil!) : nextExpiryAtMs(members);
    const timeout = members.length === 0 ? IDLE_EXIT_MS : expiry === undefined ? '365 days' : Math.max(1, expiry - Date.now());
    const woken = await condition(() => dirty, timeout);
    if (!woken && members.length === 0) return;
    dirty = false;
    const expired = expiredMembers(members, Date.now());
    if (expired.length > 0) members = members.filter((x) => !expired.includes(x.jobId));
    // Rebuilding after a restart: members gather from their refreshes; grants wait until every holder had its turn.
    if (rebuildUntil !== undefined && Date.now() < rebuildUntil) {
      setCurrentDetails(`Rebuilding from the jobs' refreshes until ${new Date(rebuildUntil).toISOString()}\n\n${detailsOf(view(members, capacity))}`);
      continue;
    }
    const { grants, preemptions } = planQueue(members, capacity);
    const sends: Promise<void>[] = [];
    for (const g of grants) {
      const m = members.find((x) => x.jobId === g.jobId)!;
      m.held = { requests: m.held.requests + g.room.requests, batches: m.held.batches + g.room.batches };
      m.want = { requests: m.want.requests - g.room.requests, batches: m.want.batches - g.room.batches };
      m.preemptedBy = undefined;
      // Counted for members that refresh, so their refresh can say whether it has seen this grant.
      if (m.expireAfterMs !== undefined) m.grantSeq = (m.grantSeq ?? 0) + 1;
      const grant = m.expireAfterMs === undefined ? { room: g.room } : { room: g.room, seq: m.grantSeq };
      sends.push(tell(g.jobId, () => getExternalWorkflowHandle(g.jobId).signal(grantRoomSignal, grant)));
    }
    for (const p of preemptions) {
      members.find((x) => x.jobId === p.jobId)!.preemptedBy = p.by;
      sends.push(
        tell(p.jobId, () =>
          getExternalWorkflowHandle(p.jobId).signal(preemptSignal, { by: p.by, cancelRequests: p.cancelRequests }),
        ),
      );
    }
    await Promise.all(sends);
    setCurrentDetails(detailsOf(view(members, capacity)));

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof sluiceScheduler>({ capacity, members, arrivals });
    }
  }

  /** A job that no longer exists cannot hold room. */
  async function tell(jobId: string, send: () => Promise<void>) {
    try {
      await send();
    } catch {
      members = members.filter((x) => x.jobId !== jobId);
      dirty = true;
    }
  }
}

function view(members: QueueMember[], capacity: QueueCapacity): QueueView {
  return {
    capacity,
    free: freeRoom(members, capacity),
    jobs: [...members].sort(urgencyOrder).map((m) => ({
      ...m,
      state: m.paused
        ? 'paused'
        : m.preemptedBy
          ? 'preempted'
          : m.want.requests > 0
            ? 'waiting'
            : m.held.requests > 0
              ? 'holding'
              : 'idle',
    })),
  };
}

function detailsOf(v: QueueView): string {
  const rows = v.jobs.map(
    (j) => `| ${j.jobId} | ${j.priority} | ${j.state} | ${j.held.requests} | ${j.want.requests} |`,
  );
  return [
    `Free: ${v.free.requests} of ${v.capacity.maxRequests} requests, ${v.free.batches} of ${v.capacity.maxBatches} batches`,
    '',
    '| job | priority | state | holds | waits for |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
