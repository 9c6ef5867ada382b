// deploy/prometheus: the scrape config and the sample alerts parse, have what Prometheus needs, and use only
// metrics Sluice exports (src/metrics.ts): a renamed metric fails here instead of silencing an alert.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { exportedSeriesNames } from '../src/metrics';
import { metricNamesIn } from './helpers/promql';

const dir = path.join(__dirname, '..', 'deploy', 'prometheus');
const load = (file: string) => parse(readFileSync(path.join(dir, file), 'utf8')) as unknown;

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

test('metricNamesIn finds selectors, not functions, keywords, labels or durations', () => {
  assert.deepEqual(
    metricNamesIn('sum by (job, le) (rate(a_total{x="y z"}[5m] offset 7d)) / on(job) group_left(z) b > 1.2 * max(c_sum[1d:5m]) and bool d'),
    ['a_total', 'b', 'c_sum', 'd'],
  );
});

test('alerts.yml: valid rules, each using only metrics Sluice exports', () => {
  const doc = load('alerts.yml') as { groups: { name: string; rules: Rule[] }[] };
  const exported = new Set(exportedSeriesNames());
  const alerts: string[] = [];
  for (const group of doc.groups) {
    assert.ok(group.name, 'every group has a name');
    for (const rule of group.rules) {
      assert.ok(rule.alert, `a rule of ${group.name} has no alert name`);
      alerts.push(rule.alert);
      assert.equal(typeof rule.expr, 'string', rule.alert);
      assert.match(rule.for ?? '0s', /^\d+[smhdwy]$/, `${rule.alert}: for`);
      assert.ok(['warning', 'critical'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity`);
      assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
      assert.equal(count(rule.expr, '('), count(rule.expr, ')'), `${rule.alert}: balanced parentheses`);
      const names = metricNamesIn(rule.expr);
      assert.ok(names.length > 0, `${rule.alert} uses no metric`);
      for (const name of names) assert.ok(exported.has(name), `${rule.alert} uses ${name}, which Sluice does not export`);
    }
  }
  // The alerts the operations brief asks for.
  for (const wanted of ['SluiceQueueDepthFarAboveNormal', 'SluiceRequestErrorRateHigh', 'SluiceCostPerRequestUp']) {
    assert.ok(alerts.includes(wanted), `${wanted} is defined`);
  }
  const byName = new Map(doc.groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));
  assert.match(byName.get('SluiceRequestErrorRateHigh')!.expr, /\[10m\]/);
  assert.match(byName.get('SluiceRequestErrorRateHigh')!.expr, /> 0\.05/);
  assert.match(byName.get('SluiceCostPerRequestUp')!.expr, /1\.2 \*[\s\S]*offset 7d/);
});

test('prometheus.yml: loads the alerts and scrapes the workers on their metrics port', () => {
  const doc = load('prometheus.yml') as {
    rule_files: string[];
    scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[]; static_configs?: { targets: string[] }[] }[];
  };
  assert.deepEqual(doc.rule_files, ['alerts.yml']);
  const workers = doc.scrape_configs.find((c) => c.job_name === 'sluice-worker');
  assert.deepEqual(workers?.dns_sd_configs?.[0]?.names, ['sluice-worker']);
  assert.equal(workers?.dns_sd_configs?.[0]?.port, 9464);
  assert.ok(doc.scrape_configs.some((c) => c.static_configs?.some((s) => s.targets.includes('temporal:8000'))));
});

function count(text: string, ch: string) {
  return text.split(ch).length - 1;
}

test('alerts.test.yml (promtool test rules) tests alerts that exist, on series Sluice exports', () => {
  const rules = load('alerts.yml') as { groups: { rules: Rule[] }[] };
  const alertNames = new Set(rules.groups.flatMap((g) => g.rules.map((r) => r.alert)));
  const doc = load('alerts.test.yml') as {
    rule_files: string[];
    tests: { input_series: { series: string }[]; alert_rule_test?: { alertname: string }[] }[];
  };
  assert.deepEqual(doc.rule_files, ['alerts.yml']);
  const exported = new Set(exportedSeriesNames());
  const tested = new Set<string>();
  for (const t of doc.tests) {
    for (const s of t.input_series) assert.ok(exported.has(s.series.replace(/\{.*$/, '')), s.series);
    for (const a of t.alert_rule_test ?? []) {
      assert.ok(alertNames.has(a.alertname), `${a.alertname} is in alerts.yml`);
      tested.add(a.alertname);
    }
  }
  for (const wanted of ['SluiceQueueDepthFarAboveNormal', 'SluiceRequestErrorRateHigh', 'SluiceCostPerRequestUp']) {
    assert.ok(tested.has(wanted), `${wanted} has a promtool test`);
  }
});
