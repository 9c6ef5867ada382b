/**
 * Sluice's own metrics, recorded through Temporal's metric meter so they come out of the same Prometheus endpoint
 * as the SDK's worker metrics (SLUICE_METRICS_ADDRESS; see src/worker.ts). Activities call the `record*`
 * functions; until a worker calls `enableSluiceMetrics` they do nothing.
 *
 * Two constraints of Temporal's meter shape the names:
 * - Its counters hold integers, so the cost in USD is a float histogram of the cost of each collected batch:
 *   `sluice_batch_cost_usd_sum` is the cost so far (a counter in all but name: use rate()/increase() on it).
 * - A gauge keeps its last value until set again. A job's poll may run on any worker, so each worker reports the
 *   sum over the jobs it heard from within the last `GAUGE_TTL_MS` (and forgets the others): summed over workers,
 *   `sluice_batches_in_flight` is the fleet's figure, counting a job twice for at most that long after its polls
 *   move to another worker.
 * Counters count at least once: a collect retried after it finished counts its batch again.
 */
import { activityInfo } from '@temporalio/activity';
import type { MetricCounter, MetricGauge, MetricHistogram, MetricMeter, MetricTags } from '@temporalio/common';
import type { CollectResult } from './contracts/activities';

export const SLUICE_METRICS = {
  requests: {
    name: 'sluice_requests_total',
    type: 'counter',
    help: 'Requests settled by collect, by outcome: succeeded, failed (terminal), retried (sent again), canceled',
  },
  batchesCreated: {
    name: 'sluice_batches_created_total',
    type: 'counter',
    help: 'Message batches created (or found again after a lost create)',
  },
  pollCalls: { name: 'sluice_poll_calls_total', type: 'counter', help: 'API calls made to poll batches (retrieve, list pages)' },
  batchCostUsd: {
    name: 'sluice_batch_cost_usd',
    type: 'histogram',
    help: 'Cost of each collected batch in USD at batch prices; _sum is the cost so far',
  },
  batchesInFlight: { name: 'sluice_batches_in_flight', type: 'gauge', help: 'Batches submitted and not yet ended' },
  slaAtRiskJobs: { name: 'sluice_sla_at_risk_jobs', type: 'gauge', help: 'Jobs whose deadline is at risk' },
  queueRoomHeld: {
    name: 'sluice_queue_room_held_requests',
    type: 'gauge',
    help: "Requests' worth of the API's batch queue granted to jobs",
  },
  queueRoomWaiting: {
    name: 'sluice_queue_room_waiting_requests',
    type: 'gauge',
    help: 'Requests waiting for room in the batch queue',
  },
  queueOldestWait: {
    name: 'sluice_queue_oldest_wait_seconds',
    type: 'gauge',
    help: 'How long the longest-waiting job of each priority has waited for room',
  },
} as const;

export type SluiceMetricName = (typeof SLUICE_METRICS)[keyof typeof SLUICE_METRICS]['name'];
export const REQUEST_OUTCOMES = ['succeeded', 'failed', 'retried', 'canceled'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/** Bucket bounds of the histograms, for Runtime.install's histogramBucketOverrides. */
export const SLUICE_HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [SLUICE_METRICS.batchCostUsd.name]: [0.001, 0.01, 0.1, 1, 10, 100, 1_000],
};

/** Every series name Sluice exports (histograms as _bucket, _sum and _count), for alert rules and tests. */
export function exportedSeriesNames(): string[] {
  return Object.values(SLUICE_METRICS).flatMap((m) =>
    m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
  );
}

/** How long a gauge value reported for one owner (a job) counts; polls come at least every 5 minutes by default. */
export const GAUGE_TTL_MS = 15 * 60_000;
const GAUGE_REFRESH_MS = 15_000;

interface Instruments {
  meter: MetricMeter;
  requests: MetricCounter;
  batchesCreated: MetricCounter;
  pollCalls: MetricCounter;
  batchCostUsd: MetricHistogram;
  gauges: Record<OwnedGauge, MetricGauge>;
}
type OwnedGauge = 'batchesInFlight' | 'slaAtRiskJobs' | 'queueRoomHeld' | 'queueRoomWaiting' | 'queueOldestWait';
const OWNED_GAUGES: OwnedGauge[] = ['batchesInFlight', 'slaAtRiskJobs', 'queueRoomHeld', 'queueRoomWaiting', 'queueOldestWait'];
/** Gauges that add up over owners; the others take the largest value. */
const MAX_GAUGES = new Set<OwnedGauge>(['queueOldestWait']);

let instruments: Instruments | undefined;
let timer: NodeJS.Timeout | undefined;

interface Report {
  value: number;
  atMs: number;
  tags: MetricTags;
}
/** gauge → tag set (JSON) → owner → latest report. */
const reports = new Map<OwnedGauge, Map<string, Map<string, Report>>>();

/**
 * Creates the instruments on `meter` (Runtime.instance().metricMeter; a no-op meter when the runtime has no
 * exporter) and shows every series at zero for `tags` (the worker's namespace and task_queue), so rates and
 * alerts have a starting point. Calling it again with the same meter only adds the zeros of new tags.
 */
export function enableSluiceMetrics(meter: MetricMeter, tags: MetricTags = {}): void {
  if (instruments?.meter !== meter) {
    const c = (m: { name: string; help: string }) => meter.createCounter(m.name, '', m.help);
    const g = (m: { name: string; help: string }) => meter.createGauge(m.name, 'int', '', m.help);
    instruments = {
      meter,
      requests: c(SLUICE_METRICS.requests),
      batchesCreated: c(SLUICE_METRICS.batchesCreated),
      pollCalls: c(SLUICE_METRICS.pollCalls),
      batchCostUsd: meter.createHistogram(SLUICE_METRICS.batchCostUsd.name, 'float', 'USD', SLUICE_METRICS.batchCostUsd.help),
      gauges: {
        batchesInFlight: g(SLUICE_METRICS.batchesInFlight),
        slaAtRiskJobs: g(SLUICE_METRICS.slaAtRiskJobs),
        queueRoomHeld: g(SLUICE_METRICS.queueRoomHeld),
        queueRoomWaiting: g(SLUICE_METRICS.queueRoomWaiting),
        queueOldestWait: g(SLUICE_METRICS.queueOldestWait),
      },
    };
  }
  const i = instruments;
  for (const outcome of REQUEST_OUTCOMES) i.requests.add(0, { ...tags, outcome });
  i.batchesCreated.add(0, tags);
  i.pollCalls.add(0, tags);
  for (const gauge of OWNED_GAUGES) {
    if (gauge === 'queueOldestWait') continue; // labelled by priority: appears when the scheduler reports one
    groupOf(gauge, tags);
  }
  refreshGauges();
  timer ??= setInterval(refreshGauges, GAUGE_REFRESH_MS).unref();
}

/** Counts what one collect settled, and the batch's cost. */
export function recordCollected(result: Pick<CollectResult, 'succeeded' | 'failed' | 'retry' | 'canceled' | 'tally'>) {
  const i = instruments;
  if (!i) return;
  const tags = activityTags();
  const counts: Record<RequestOutcome, number> = {
    succeeded: result.succeeded,
    failed: result.failed,
    retried: result.retry,
    canceled: result.canceled,
  };
  for (const outcome of REQUEST_OUTCOMES) i.requests.add(counts[outcome], { ...tags, outcome });
  i.batchCostUsd.record(Math.max(0, result.tally.usd), tags);
}

export function recordBatchCreated() {
  instruments?.batchesCreated.add(1, activityTags());
}

/** One poll of a job: the API calls it made, and how many of the batches it looked at are still in flight. */
export function recordPolled(poll: { calls: number; inFlight: number }) {
  const i = instruments;
  if (!i) return;
  const tags = activityTags();
  i.pollCalls.add(poll.calls, tags);
  report('batchesInFlight', jobOwner(), poll.inFlight, tags);
}

/** For the SLA feature: whether a job's deadline is at risk (counted in sluice_sla_at_risk_jobs). */
export function recordSlaAtRisk(jobId: string, atRisk: boolean, tags: MetricTags = activityTags()) {
  report('slaAtRiskJobs', jobId, atRisk ? 1 : 0, tags);
}

/** For the scheduler: the batch-queue room it holds for jobs and the demand waiting for room. */
export function recordQueueRoom(
  schedulerId: string,
  room: { heldRequests: number; waitingRequests: number; oldestWaitSecondsByPriority?: Record<number, number> },
  tags: MetricTags = activityTags(),
) {
  report('queueRoomHeld', schedulerId, room.heldRequests, tags);
  report('queueRoomWaiting', schedulerId, room.waitingRequests, tags);
  for (const [priority, seconds] of Object.entries(room.oldestWaitSecondsByPriority ?? {})) {
    report('queueOldestWait', `${schedulerId}/${priority}`, Math.round(seconds), { ...tags, priority });
  }
}

function report(gauge: OwnedGauge, owner: string, value: number, tags: MetricTags) {
  groupOf(gauge, tags).set(owner, { value, atMs: Date.now(), tags });
  refreshGauges();
}

function groupOf(gauge: OwnedGauge, tags: MetricTags): Map<string, Report> {
  let byTags = reports.get(gauge);
  if (!byTags) reports.set(gauge, (byTags = new Map<string, Map<string, Report>>()));
  const key = JSON.stringify(Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)));
  let group = byTags.get(key);
  if (!group) {
    byTags.set(key, (group = new Map<string, Report>()));
    // An empty group still shows its tags at 0: remember them through a zero report that never expires.
    group.set('', { value: 0, atMs: Number.POSITIVE_INFINITY, tags });
  }
  return group;
}

/** Sets every gauge from the reports still fresh; forgets the stale ones. Safe to call at any time. */
function refreshGauges() {
  const i = instruments;
  const now = Date.now();
  for (const [gauge, byTags] of reports) {
    for (const group of byTags.values()) {
      let total = 0;
      let tags: MetricTags = {};
      for (const [owner, r] of group) {
        tags = r.tags;
        if (now - r.atMs > GAUGE_TTL_MS) {
          group.delete(owner);
          continue;
        }
        total = MAX_GAUGES.has(gauge) ? Math.max(total, r.value) : total + r.value;
      }
      try {
        i?.gauges[gauge].set(Math.max(0, total), tags);
      } catch {
        // The runtime behind the meter is gone (a test stopped it): nothing to report to.
      }
    }
  }
}

/** namespace and task_queue, as Temporal's own worker metrics label them. */
function activityTags(): MetricTags {
  try {
    const info = activityInfo();
    return { namespace: info.namespace, task_queue: info.taskQueue };
  } catch {
    return {};
  }
}

function jobOwner(): string {
  try {
    return activityInfo().workflowExecution?.workflowId ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
