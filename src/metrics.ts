/**
 * Sluice's own metrics, recorded through Temporal's metric meter so they come out of the same Prometheus endpoint
 * as the SDK's worker metrics (SLUICE_METRICS_ADDRESS; see src/worker.ts). The plugin makes one `SluiceMetrics`
 * and hands it to the activities in their dependencies (src/activities/deps.ts); it records nothing until
 * `enable` gives it a meter. A test gives its own meter, so two workers in one process never share a registry.
 *
 * Two constraints of Temporal's meter shape the names:
 * - Its counters hold integers, so the cost in USD is a float histogram of the cost of each collected batch:
 *   `sluice_batch_cost_usd_sum` is the cost so far (a counter in all but name: use rate()/increase() on it).
 * - A gauge keeps its last value until set again. A job's poll may run on any worker, so each worker reports the
 *   sum over the jobs it heard from within the last `GAUGE_TTL_MS` (and forgets the others): summed over workers,
 *   a gauge is the fleet's figure, counting a job twice for at most that long after its polls move to another
 *   worker. A job that ends reports zero at once.
 * Every gauge here is set by production code (the poll and finalize activities); the scheduler's queue room had
 * gauges that nothing set, and they went with the alerts that read them.
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
  slaAtRiskJobs: { name: 'sluice_sla_at_risk_jobs', type: 'gauge', help: 'Running jobs whose deadline is at risk' },
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

type OwnedGauge = 'batchesInFlight' | 'slaAtRiskJobs';
const OWNED_GAUGES: OwnedGauge[] = ['batchesInFlight', 'slaAtRiskJobs'];

interface Instruments {
  meter: MetricMeter;
  requests: MetricCounter;
  batchesCreated: MetricCounter;
  pollCalls: MetricCounter;
  batchCostUsd: MetricHistogram;
  gauges: Record<OwnedGauge, MetricGauge>;
}

interface Report {
  value: number;
  atMs: number;
  tags: MetricTags;
}

/** What one poll of a job saw: the API calls it made, the batches still in flight, the job's SLA state. */
export interface PollMetrics {
  calls: number;
  inFlight: number;
  /** Whether the job's deadline is at risk (the job says so in its poll input); unset: the job has no SLA. */
  slaAtRisk?: boolean;
}

export class SluiceMetrics {
  private instruments: Instruments | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** gauge → tag set (JSON) → owner → latest report. */
  private readonly reports = new Map<OwnedGauge, Map<string, Map<string, Report>>>();

  /**
   * Creates the instruments on `meter` (Runtime.instance().metricMeter; a no-op meter when the runtime has no
   * exporter) and shows every series at zero for `tags` (the worker's namespace and task_queue), so rates and
   * alerts have a starting point. Calling it again with the same meter only adds the zeros of new tags.
   */
  enable(meter: MetricMeter, tags: MetricTags = {}): void {
    if (this.instruments?.meter !== meter) {
      const c = (m: { name: string; help: string }) => meter.createCounter(m.name, '', m.help);
      const g = (m: { name: string; help: string }) => meter.createGauge(m.name, 'int', '', m.help);
      this.instruments = {
        meter,
        requests: c(SLUICE_METRICS.requests),
        batchesCreated: c(SLUICE_METRICS.batchesCreated),
        pollCalls: c(SLUICE_METRICS.pollCalls),
        batchCostUsd: meter.createHistogram(SLUICE_METRICS.batchCostUsd.name, 'float', 'USD', SLUICE_METRICS.batchCostUsd.help),
        gauges: { batchesInFlight: g(SLUICE_METRICS.batchesInFlight), slaAtRiskJobs: g(SLUICE_METRICS.slaAtRiskJobs) },
      };
    }
    const i = this.instruments;
    for (const outcome of REQUEST_OUTCOMES) i.requests.add(0, { ...tags, outcome });
    i.batchesCreated.add(0, tags);
    i.pollCalls.add(0, tags);
    for (const gauge of OWNED_GAUGES) this.groupOf(gauge, tags);
    this.refreshGauges();
    this.timer ??= setInterval(() => this.refreshGauges(), GAUGE_REFRESH_MS).unref();
  }

  /** Counts what one collect settled, and the batch's cost. */
  collected(result: Pick<CollectResult, 'succeeded' | 'failed' | 'retry' | 'canceled' | 'tally'>, tags = activityTags()) {
    const i = this.instruments;
    if (!i) return;
    const counts: Record<RequestOutcome, number> = {
      succeeded: result.succeeded,
      failed: result.failed,
      retried: result.retry,
      canceled: result.canceled,
    };
    for (const outcome of REQUEST_OUTCOMES) i.requests.add(counts[outcome], { ...tags, outcome });
    i.batchCostUsd.record(Math.max(0, result.tally.usd), tags);
  }

  batchCreated(tags = activityTags()) {
    this.instruments?.batchesCreated.add(1, tags);
  }

  /** One poll of a job (`owner`: its workflow id). */
  polled(poll: PollMetrics, owner = jobOwner(), tags = activityTags()) {
    const i = this.instruments;
    if (!i) return;
    i.pollCalls.add(poll.calls, tags);
    this.report('batchesInFlight', owner, poll.inFlight, tags);
    if (poll.slaAtRisk !== undefined) this.report('slaAtRiskJobs', owner, poll.slaAtRisk ? 1 : 0, tags);
  }

  /** A job served by the account's poller tells its SLA state with its registration (`owner`: its workflow id). */
  slaState(atRisk: boolean, owner: string, tags = activityTags()) {
    if (!this.instruments) return;
    this.report('slaAtRiskJobs', owner, atRisk ? 1 : 0, tags);
  }

  /** A job that ended counts in no gauge from now on (rather than until its reports expire). */
  jobEnded(owner = jobOwner(), tags = activityTags()) {
    if (!this.instruments) return;
    for (const gauge of OWNED_GAUGES) this.report(gauge, owner, 0, tags);
  }

  /** Stops the refresh timer (a test that made its own instance). */
  close() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private report(gauge: OwnedGauge, owner: string, value: number, tags: MetricTags) {
    this.groupOf(gauge, tags).set(owner, { value, atMs: Date.now(), tags });
    this.refreshGauges();
  }

  private groupOf(gauge: OwnedGauge, tags: MetricTags): Map<string, Report> {
    let byTags = this.reports.get(gauge);
    if (!byTags) this.reports.set(gauge, (byTags = new Map<string, Map<string, Report>>()));
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
  private refreshGauges() {
    const i = this.instruments;
    const now = Date.now();
    for (const [gauge, byTags] of this.reports) {
      for (const group of byTags.values()) {
        let total = 0;
        let tags: MetricTags = {};
        for (const [owner, r] of group) {
          tags = r.tags;
          if (now - r.atMs > GAUGE_TTL_MS) {
            group.delete(owner);
            continue;
          }
          total += r.value;
        }
        try {
          i?.gauges[gauge].set(Math.max(0, total), tags);
        } catch {
          // The runtime behind the meter is gone (a test stopped it): nothing to report to.
        }
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
