// The chaos harness of `npm run chaos`, small: 1,000 requests against the emulator with faults on every endpoint,
// two SIGKILLs of the worker process and one restart of the Temporal dev server. Every request ends with exactly
// one outcome, succeeded results are the API's, and no request is sent more often than its attempts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, runChaos } from '../bench/chaos/harness';

test('chaos: 1,000 requests, 2 worker kills, 1 server restart, faults on', { timeout: 180_000 }, async (t) => {
  const startedAt = Date.now();
  const report = await runChaos({
    requests: 1_000,
    workerKills: 2,
    serverRestarts: 1,
    seed: 3,
    // From each drawn moment, the next one with no activity running: a kill mid-activity costs that activity's
    // whole timeout (2 min for a create), too long for `npm test`; `npm run chaos` kills at any moment.
    chaosTiming: 'between-activities',
    timeoutMs: 150_000,
    log: (line) => t.diagnostic(line),
  });
  for (const line of formatReport(report).split('\n')) t.diagnostic(line);
  const violations = report.checks.filter((c) => !c.ok);
  assert.deepEqual(violations, [], formatReport(report));
  // The share done jumps by whole batches, so a late event can be overtaken by the job's end; one of each must happen.
  const happened = (kind: string) => report.events.filter((e) => e.kind === kind && e.atMs !== undefined).length;
  assert.ok(happened('worker-kill') >= 1, 'the worker was killed at least once');
  assert.equal(happened('server-restart'), 1, 'the server was restarted');
  const totalMs = Date.now() - startedAt;
  t.diagnostic(`total ${(totalMs / 1000).toFixed(1)} s (job ${(report.wallMs / 1000).toFixed(1)} s)`);
  assert.ok(report.wallMs < 60_000, `the job took ${report.wallMs} ms`);
});
