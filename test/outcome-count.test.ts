// "Requests done" is one count: a job whose requests ended sla_missed is at 100 % in the progress query, the
// Web UI details, the progress bar and `sluice status` (all of which count with requestsDone).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestsDone } from '../src/domain/outcome-count';
import { detailsMarkdown, initialJobState, progressOf } from '../src/workflows/job-state';
import { isFinished } from '../src/workflows/job-decisions';

test('a job with sla_missed requests reaches 100 % and is finished', () => {
  const s = initialJobState(1_000, 10, 5);
  s.phase = 'running';
  s.shardSizes = [5, 5];
  s.nextShard = 2;
  s.succeeded = 4;
  s.failed = 1;
  s.slaMissed = 5;
  const p = progressOf(s, 2_000);
  assert.equal(requestsDone(p.requests), p.requests.total, 'the progress bar and sluice status show 10/10');
  assert.match(detailsMarkdown(p, 'nothing'), /\| done \| 10 \/ 10 \(4 ok, 1 failed, 5 sla_missed\) \|/);
  assert.equal(isFinished(s), true);
  s.slaMissed = 4;
  assert.equal(requestsDone(progressOf(s, 2_000).requests), 9);
  assert.equal(isFinished(s), false);
});
