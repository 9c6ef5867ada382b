// Audit options, schedule cadences and input globs: pure rules, no server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuditOptionsSchema, auditStamp, scheduleIdOf, scheduleNameOf } from '../src/domain/audit';
import { ConfigError } from '../src/domain/errors';
import { globBase, globToRegExp } from '../src/domain/glob';
import { jobWorkflowId } from '../src/domain/job';
import { cadenceOf, ScheduleCadenceSchema, type ScheduleCadenceInput } from '../src/domain/schedule';

const cadence = (input: ScheduleCadenceInput) => cadenceOf(ScheduleCadenceSchema.parse(input));

describe('audit options', () => {
  test('defaults: report orphans without canceling, copy uncollected results, an hour of grace, 29 days back', () => {
    const o = AuditOptionsSchema.parse({ name: 'nightly', input: '/data/in.jsonl' });
    assert.deepEqual(o.reconcile, {
      cancelOrphans: false,
      orphanGraceMs: 3_600_000,
      downloadUncollected: true,
      uncollectedGraceMs: 3_600_000,
      lookbackMs: 29 * 86_400_000,
    });
    assert.equal(o.job.batchSize, 100);
    assert.deepEqual(o.defaults, {});
  });

  test('durations as text, job options validated like sluice run', () => {
    const o = AuditOptionsSchema.parse({
      name: 'n1',
      input: 'x',
      slaMs: '30h',
      job: { batchSize: 500, sla: { windowMs: '4s' } },
      reconcile: { orphanGraceMs: '10m' },
    });
    assert.equal(o.slaMs, 30 * 3_600_000);
    assert.equal(o.job.sla.windowMs, 4_000);
    assert.equal(o.reconcile.orphanGraceMs, 600_000);
    assert.equal(AuditOptionsSchema.safeParse({ name: 'n', input: 'x', job: { batchSize: 0 } }).success, false);
  });

  test('refused: bad names, a fixed deadline, unknown keys', () => {
    for (const name of ['Nightly', '-x', 'a b', 'x'.repeat(49), '']) {
      assert.equal(AuditOptionsSchema.safeParse({ name, input: 'x' }).success, false, name);
    }
    const fixed = AuditOptionsSchema.safeParse({ name: 'n', input: 'x', job: { sla: { deadlineMs: Date.now() + 1 } } });
    assert.equal(fixed.success, false);
    assert.match(fixed.error.issues[0]!.message, /slaMs/);
    assert.equal(AuditOptionsSchema.safeParse({ name: 'n', input: 'x', cancelOrphans: true }).success, false);
  });

  test('ids and stamps read well', () => {
    assert.equal(scheduleIdOf('nightly'), 'sluice-schedule-nightly');
    assert.equal(scheduleNameOf('sluice-schedule-nightly'), 'nightly');
    assert.equal(scheduleNameOf('other'), undefined);
    const at = Date.UTC(2026, 2, 1, 2, 0, 7);
    assert.equal(auditStamp(at), '20260301-020007');
    assert.equal(jobWorkflowId('nightly', at), 'sluice-job-nightly-20260301-020007');
  });
});

describe('schedule cadence', () => {
  test('cron with a time zone; every; the SLA rule alone (30h → every 4h)', () => {
    assert.deepEqual(cadence({ cron: '0 2 * * *', timezone: 'Europe/Berlin' }), {
      kind: 'cron',
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
      text: 'cron "0 2 * * *" (Europe/Berlin)',
    });
    assert.equal(cadence({ cron: '@daily' }).kind, 'cron');
    assert.deepEqual(cadence({ everyMs: '3s' }), { kind: 'every', everyMs: 3_000, fromSla: false, text: 'every 3s' });
    const sla = cadence({ slaMs: '30h' });
    assert.equal(sla.kind, 'every');
    assert.equal(sla.kind === 'every' && sla.everyMs, 4 * 3_600_000);
    assert.equal(sla.kind === 'every' && sla.fromSla, true);
    const custom = cadence({ slaMs: '10s', windowMs: '4s', marginMs: '1s' });
    assert.equal(custom.kind === 'every' && custom.everyMs, 5_000);
  });

  test('cron or every wins over the SLA; policies default to SKIP, 1h catch-up, pause on failure', () => {
    assert.equal(cadence({ cron: '0 2 * * *', slaMs: '30h' }).kind, 'cron');
    const parsed = ScheduleCadenceSchema.parse({ everyMs: '4h' });
    assert.equal(parsed.overlap, 'SKIP');
    assert.equal(parsed.catchupWindowMs, 3_600_000);
    assert.equal(parsed.pauseOnFailure, true);
  });

  test('refused, each naming the option', () => {
    const refused = (input: ScheduleCadenceInput, field: string, reason: RegExp) =>
      assert.throws(() => cadence(input), (err: unknown) => err instanceof ConfigError && err.field === field && reason.test(err.reason));
    refused({}, 'cron', /--cron .* --every .* --sla/);
    refused({ cron: '0 2 * * *', everyMs: '1h' }, 'cron', /not both/);
    refused({ cron: 'every night' }, 'cron', /not a cron expression/);
    refused({ cron: '0 2 * * *', timezone: 'Mars/Olympus' }, 'timezone', /not a time zone/);
    refused({ everyMs: '4h', timezone: 'Europe/Berlin' }, 'timezone', /--cron only/);
    refused({ everyMs: '1500ms' }, 'every', /whole seconds/);
    refused({ slaMs: '20h' }, 'sla', /too short for batches/);
  });
});

describe('input globs', () => {
  test('* and ? stay in a segment, ** crosses them, {a,b} alternates', () => {
    const re = globToRegExp('/data/**/*.jsonl');
    assert.ok(re.test('/data/a.jsonl'));
    assert.ok(re.test('/data/2026/03/a.jsonl'));
    assert.ok(!re.test('/data/a.json'));
    assert.ok(!re.test('/other/a.jsonl'));
    const one = globToRegExp('/in/part-??.{jsonl,ndjson}');
    assert.ok(one.test('/in/part-01.jsonl') && one.test('/in/part-02.ndjson'));
    assert.ok(!one.test('/in/part-1.jsonl') && !one.test('/in/sub/part-01.jsonl'));
    assert.ok(globToRegExp('/in/a+b(1).jsonl').test('/in/a+b(1).jsonl'), 'regex characters are literal');
  });

  test('the walk starts at the part before the first magic', () => {
    assert.equal(globBase('/data/2026/*.jsonl'), '/data/2026/');
    assert.equal(globBase('/data/**/x.jsonl'), '/data/');
    assert.equal(globBase('*.jsonl'), '');
  });
});
