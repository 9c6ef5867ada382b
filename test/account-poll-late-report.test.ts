// A late report from the account's poller: it names a batch the job already collected on its own, and it arrives
// while the job's submit lane is still creating its last batch, with nothing else in flight. The job must wait for
// the create as before, not spin on the stale report (a job that did looped without yielding until its workflow task
// failed: "async hook stack has become corrupted", or a deadlock), and must not poll again and again once the last
// batch is in flight. Real dev server and emulator; the moment is made exact: the job polls on its own from the start
// (its worker's account poll is off, as for a job whose poller fell silent), the second create is slow, and the test
// sends the report the poller would, once the first batch is collected.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { temporal } from '@temporalio/proto';
import { startJob, waitForJob } from '../src/client/jobs';
import { batchesEndedSignal } from '../src/contracts/messages';
import { startStack, writeJobInput, type TestStack } from './helpers/stack';
import { sendsByCustomId } from './helpers/wire';

const SLOW_CREATE_MS = 8_000;
const POLL = { initialMs: 200, growth: 1.5, capMs: 500 };

type Event = temporal.api.history.v1.IHistoryEvent;

let stack: TestStack;
before(async () => {
  stack = await startStack({
    timeScale: 0.001,
    latency: { batch: { kind: 'fixed', ms: 500_000 }, spread: 0 },
    faults: { targeted: [{ endpoint: 'create', calls: [2], action: 'delayBefore', delayMs: SLOW_CREATE_MS }] },
  });
});
after(() => stack.close());

/** The activity type of each completed activity, in history order, with the completion's event id. */
function completedActivities(events: Event[]): { type: string; eventId: number }[] {
  const typeOf = new Map(events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [[String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?']] : [])));
  return events.flatMap((e) => {
    const id = e.activityTaskCompletedEventAttributes?.scheduledEventId;
    return id === undefined || id === null ? [] : [{ type: typeOf.get(String(id)) ?? '?', eventId: Number(e.eventId) }];
  });
}

test('a report for a batch already collected, arriving while the last create runs, is waited out, not spun on', async () => {
  const worker = await stack.startWorker({ accountPoll: false });
  const client = stack.env.client;
  const file = await writeJobInput(20);
  const { workflowId } = await startJob({
    client,
    store: stack.store,
    taskQueue: stack.taskQueue,
    file,
    defaults: { model: 'claude-haiku-4-5', max_tokens: 16 },
    // Two sub-batches created one at a time: the first is created, ends and is collected while the second's create
    // is held by the emulator.
    options: { batchSize: 10, activityConcurrency: 1, poll: POLL },
  });
  const handle = client.workflow.getHandle(workflowId);
  const summary = await worker.runUntil(async () => {
    // The exact moment: the first batch collected (by the job's own poll), the second create not answered yet.
    for (;;) {
      const done = completedActivities((await handle.fetchHistory()).events ?? []).map((a) => a.type);
      if (done.includes('collectBatch') || done.includes('collectBatches')) {
        assert.equal(done.filter((t) => t === 'submitBatch').length, 1, 'the slow create is still running');
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const anthropic = new Anthropic({ apiKey: stack.emulator.apiKey, baseURL: stack.emulator.url, maxRetries: 0 });
    const ended = await anthropic.messages.batches.retrieve(await firstBatchId(workflowId));
    assert.equal(ended.processing_status, 'ended');
    await handle.signal(batchesEndedSignal, { ended: [{ batchId: ended.id, resultsUrl: ended.results_url ?? undefined }], walkedAtMs: Date.now() });
    return waitForJob(client, workflowId);
  });

  assert.equal(summary.outcomes.succeeded, 20, 'every request has its result');
  const events = (await handle.fetchHistory()).events ?? [];
  const failedTasks = events.filter((e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes);
  assert.deepEqual(
    failedTasks.map((e) => e.workflowTaskFailedEventAttributes?.failure?.message ?? 'timed out'),
    [],
    'no workflow task failed or timed out (a job spinning on the report blocks its thread until it does)',
  );

  // The report came while the slow create ran; between them the job waited in a few tasks, it did not loop.
  const reportAt = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'batchesEnded');
  assert.ok(reportAt >= 0, 'the report reached the job');
  const secondCreate = completedActivities(events).filter((a) => a.type === 'submitBatch')[1];
  assert.ok(secondCreate, 'both creates answered');
  const between = events.filter((e) => Number(e.eventId) > Number(events[reportAt]!.eventId) && Number(e.eventId) < secondCreate.eventId);
  assert.ok(
    Number(events[reportAt]!.eventId) < secondCreate.eventId,
    'the report arrived before the slow create answered (else this test tested nothing)',
  );
  // Waiting, the job wakes at most once per poll interval (at least initialMs); a job spinning on the report would
  // fail its task (above) or wake far more often.
  const elapsedMs = timeOf(events.find((e) => Number(e.eventId) === secondCreate.eventId)) - timeOf(events[reportAt]);
  const bound = Math.ceil(elapsedMs / POLL.initialMs) + 3;
  const tasks = between.filter((e) => e.workflowTaskCompletedEventAttributes).length;
  assert.ok(tasks <= bound, `the job waited for the create: ${tasks} workflow tasks in ${elapsedMs} ms between the report and the create's answer`);
  const timers = between.filter((e) => e.timerStartedEventAttributes).length;
  assert.ok(timers <= bound, `no round of waits without end: ${timers} timers started in ${elapsedMs} ms`);

  const stats = stack.emulator.stats();
  assert.equal(stats.calls.create, 2, 'one create per sub-batch');
  assert.equal(stats.calls.results, 2, 'each batch downloaded once: the stale report collected nothing again');
  // Polls on the job's cadence (one retrieve per batch in flight each round), not one round after another.
  const polls = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'pollBatches').length;
  const spanMs = timeOf(events.at(-1)) - timeOf(events[0]);
  assert.ok(polls <= Math.ceil(spanMs / POLL.initialMs) + 3, `${polls} polls in ${spanMs} ms`);
  const sends = await sendsByCustomId(stack.store, stats);
  assert.ok(Object.values(sends).every((x) => x.batch === 1), 'nothing sent twice');
});

function timeOf(e: Event | undefined): number {
  const t = e?.eventTime;
  return Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
}

/** The job's one batch so far, from the store's claims (what the submit activity wrote): the slow one has none yet. */
async function firstBatchId(jobId: string): Promise<string> {
  const claims = await stack.store.list('batches/');
  const mine: string[] = [];
  for (const key of claims) {
    const claim = await stack.store.readJson<{ jobId: string }>(key);
    if (claim?.jobId === jobId) mine.push(key.replace(/^.*\//, '').replace(/\.json$/, ''));
  }
  assert.equal(mine.length, 1, `one batch created so far (claims: ${claims.join(', ')})`);
  return mine[0]!;
}
