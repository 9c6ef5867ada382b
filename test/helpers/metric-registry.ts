/**
 * A metrics registry for tests: a Temporal MetricMeter that keeps each series' current value as Prometheus would
 * scrape it (counters summed, gauges last set, histograms as _sum and _count), so a test can read what a worker's
 * Sluice metrics would export without a Prometheus endpoint (Runtime.install runs once per process).
 */
import type { MetricCounter, MetricGauge, MetricHistogram, MetricMeter, MetricTags } from '@temporalio/common';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricRegistry {
  meter: MetricMeter;
  /** The current value of every series. */
  samples: () => Sample[];
  /** One series' value (exact labels); undefined when it was never written. */
  value: (name: string, labels?: MetricTags) => number | undefined;
}

const keyOf = (name: string, labels: MetricTags = {}) =>
  `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;

export function metricRegistry(): MetricRegistry {
  const series = new Map<string, Sample>();
  const write = (name: string, labels: MetricTags = {}, update: (old: number) => number) => {
    const key = keyOf(name, labels);
    const old = series.get(key);
    const stringLabels = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
    series.set(key, { name, labels: stringLabels, value: update(old?.value ?? 0) });
  };
  const meter: MetricMeter = {
    createCounter: (name) =>
      ({ name, kind: 'counter', valueType: 'int', add: (v: number, t?: MetricTags) => write(name, t, (old) => old + v) }) as unknown as MetricCounter,
    createGauge: (name) =>
      ({ name, kind: 'gauge', valueType: 'int', set: (v: number, t?: MetricTags) => write(name, t, () => v) }) as unknown as MetricGauge,
    createHistogram: (name) =>
      ({
        name,
        kind: 'histogram',
        valueType: 'float',
        record: (v: number, t?: MetricTags) => {
          write(`${name}_sum`, t, (old) => old + v);
          write(`${name}_count`, t, (old) => old + 1);
        },
      }) as unknown as MetricHistogram,
    withTags: () => meter,
  };
  return {
    meter,
    samples: () => [...series.values()].map((s) => ({ ...s, labels: { ...s.labels } })),
    value: (name, labels) => series.get(keyOf(name, labels))?.value,
  };
}
