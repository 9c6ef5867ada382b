// The workflow code as it is now replays every recorded history (test/histories/, from `npm run record-histories`):
// a change that would break a job, scheduler, intake or audit in flight across a deploy fails here.
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import {
  decodedPayloads,
  forReplay,
  RECORDED_PROMPT,
  readRecordedHistories,
  type RecordedHistory,
} from './helpers/histories';

Runtime.install({ logger: new DefaultLogger('WARN') });

const WORKFLOW_TYPES = ['sluiceJob', 'sluiceScheduler', 'sluiceIntake', 'sluiceAudit', 'sluicePoller'];

let histories: RecordedHistory[];
let bundle: WorkflowBundle;
before(async () => {
  histories = await readRecordedHistories();
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    logger: new DefaultLogger('WARN'),
  });
});

async function replayAll(workflowBundle: WorkflowBundle, which: RecordedHistory[]) {
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle, replayName: 'sluice-replay' }, forReplay(which))) {
    if (r.error) failures.push(`${r.workflowId}: ${r.error.name}: ${r.error.message}`);
  }
  return failures;
}

describe('recorded histories', () => {
  test('cover every workflow type, a continue-as-new of the job and of the intake, a preemption, a canceled job and overlapped creates and collects', () => {
    const types = new Set(histories.map((h) => h.workflowType));
    for (const t of WORKFLOW_TYPES) assert.ok(types.has(t), `a recorded history of ${t}`);
    const endsWithContinueAsNew = (h: RecordedHistory) =>
      h.json.events.at(-1)?.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW';
    for (const t of ['sluiceJob', 'sluiceIntake']) {
      assert.ok(
        histories.some((h) => h.workflowType === t && endsWithContinueAsNew(h)),
        `a ${t} run that continued as new`,
      );
    }
    const activities = (h: RecordedHistory) =>
      h.json.events.flatMap((e) => {
        const a = e.activityTaskScheduledEventAttributes as { activityType?: { name?: string } } | undefined;
        return a?.activityType?.name ? [a.activityType.name] : [];
      });
    const all = histories.flatMap(activities);
    for (const a of [
      'packRetries',
      'runSync',
      'markSlaMissed',
      'cancelBatches',
      'requestRoom',
      'snapshotAuditInput',
      'reconcileAccount',
      'collectBatches',
    ]) {
      assert.ok(all.includes(a), `some recorded history runs ${a}`);
    }
    // The bounded sweep (patch intake-bounded-sweep): a backlog swept in more than one call.
    assert.ok(
      histories.some(
        (h) =>
          decodedPayloads(h.json).some((p) => p.includes('intake-bounded-sweep')) &&
          activities(h).filter((a) => a === 'sweepIntake').length >= 2,
      ),
      'an intake that swept a backlog in bounded calls',
    );
    // Several sub-batches per child job (patch intake-cut-many): 34 requests in sub-batches of 5 went to 3 jobs.
    assert.ok(
      histories.some(
        (h) =>
          decodedPayloads(h.json).some((p) => p.includes('intake-cut-many')) &&
          h.json.events.filter((e) => e.eventType === 'EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED').length === 3,
      ),
      'an intake that cut several sub-batches into each child job',
    );
    // Deferred records (patch intake-deferred-records): records written beside the loop, and a continue-as-new.
    assert.ok(
      histories.some((h) => activities(h).includes('recordIntakeChunks') && h.json.events.at(-1)?.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW'),
      'an intake that admitted with deferred records and continued as new',
    );
    // Its admissions have a type of their own: a worker of a release before it cannot take one for a claiming admission.
    for (const h of histories.filter((h) => activities(h).includes('recordIntakeChunks'))) {
      assert.ok(activities(h).includes('admitIntakeGroupsDeferred'), `${h.file}: admits with deferred records as admitIntakeGroupsDeferred`);
      assert.ok(!activities(h).includes('admitIntakeGroups'), `${h.file}: no deferred admission is scheduled as admitIntakeGroups`);
    }
    // The early handover (patch intake-early-handover): an intake that continued as new with that patch marked.
    assert.ok(
      histories.some((h) => decodedPayloads(h.json).some((p) => p.includes('intake-early-handover')) && h.json.events.at(-1)?.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW'),
      'an intake that handed over early and continued as new',
    );
    // The quiet handover (patch intake-quiet-handover): jobs started by startIntakeJob, no child or signal events, ends
    // reported by update, and a continue-as-new; its job recorded job-end-by-update and ran reportJobEnded.
    const quiet = histories.find((h) => h.file.endsWith('intake-quiet-handover.json'));
    assert.ok(quiet, 'a recorded quiet handover');
    assert.ok(decodedPayloads(quiet.json).some((p) => p.includes('intake-quiet-handover')), 'its patch marker');
    assert.ok(activities(quiet).includes('startIntakeJob'), 'jobs started by an activity');
    assert.ok(!quiet.json.events.some((e) => /CHILD_WORKFLOW|SIGNALED/.test(String(e.eventType))), 'no child or signal events');
    assert.ok(quiet.json.events.some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED' && JSON.stringify(e).includes('"name":"subBatchDone"')), 'a job end reported by update');
    assert.equal(quiet.json.events.at(-1)?.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    const quietJob = histories.find((h) => h.file.endsWith('intake-quiet-handover-job.json'));
    assert.ok(quietJob && activities(quietJob).includes('reportJobEnded') && decodedPayloads(quietJob.json).some((p) => p.includes('job-end-by-update')), 'a job that reported its end by update');
    // An intake on its own queue (patches intake-bulk-on-job-queue, intake-admit-local): admissions by local activity,
    // cuts on the jobs' queue ahead of its own tasks, job starts on the intake's queue.
    const ownQueue = histories.find((h) => h.file.endsWith('intake-bulk-on-job-queue.json'));
    assert.ok(ownQueue, 'a recorded intake on its own queue');
    assert.ok(decodedPayloads(ownQueue.json).some((p) => p.includes('intake-admit-local')), 'the local admission patch marker');
    const markers = ownQueue.json.events.map((e) => (e.markerRecordedEventAttributes as { markerName?: string } | undefined)?.markerName);
    assert.ok(markers.includes('core_local_activity'), 'an admission by local activity');
    assert.ok(!activities(ownQueue).some((a) => a.startsWith('admitIntake')), 'no admission scheduled as an activity task');
    type Scheduled = { activityType?: { name?: string }; taskQueue?: { name?: string }; priority?: { priorityKey?: number } };
    const scheduled = ownQueue.json.events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes as Scheduled] : []));
    const queueOf = (type: string) => new Set(scheduled.filter((a) => a.activityType?.name === type).map((a) => a.taskQueue?.name));
    const [cutQueue] = [...queueOf('cutIntakeChunks')];
    const [startQueue] = [...queueOf('startIntakeJob')];
    assert.ok(cutQueue && startQueue && cutQueue !== startQueue, 'cuts on another queue than the job starts');
    assert.ok(scheduled.filter((a) => a.activityType?.name === 'cutIntakeChunks').every((a) => a.priority?.priorityKey === 1), 'cuts at priority 1');
    // The submit lane (patch overlap-submit-collect): a batch collected while a create of the same run still ran.
    const completedTypes = (h: RecordedHistory) => {
      const typeOf = new Map<string, string | undefined>();
      return h.json.events.flatMap((e) => {
        const s = e.activityTaskScheduledEventAttributes as { activityType?: { name?: string } } | undefined;
        if (s) typeOf.set(String(e.eventId), s.activityType?.name);
        const c = e.activityTaskCompletedEventAttributes as { scheduledEventId?: string | number } | undefined;
        return c?.scheduledEventId === undefined ? [] : [typeOf.get(String(c.scheduledEventId))];
      });
    };
    assert.ok(
      histories.some((h) => {
        const done = completedTypes(h);
        return done.indexOf('collectBatch') !== -1 && done.indexOf('collectBatch') < done.lastIndexOf('submitBatch');
      }),
      'a job that collected a batch while it still created others',
    );
    // The submit lane by callbacks (patch submit-lane-by-callbacks): histories that recorded the patch's marker (not
    // just the id somewhere in a payload), each with more than one create; between them, a collect that completed
    // before the run's last create did, a cancel requested while a create was still out, and a continue-as-new that
    // waited for its running creates. These say what the runs contain, not that the lanes differ: the async lane,
    // put in the callbacks lane's place, replays these histories too (their activations order the same commands).
    const patchesOf = (h: RecordedHistory) =>
      h.json.events.flatMap((e) => {
        const m = e.markerRecordedEventAttributes as { markerName?: string; details?: { 'patch-data'?: unknown } } | undefined;
        if (m?.markerName !== 'core_patch') return [];
        return decodedPayloads(m.details?.['patch-data']).map((p) => (JSON.parse(p) as { id?: string }).id);
      });
    const byCallbacks = histories.filter((h) => h.workflowType === 'sluiceJob' && patchesOf(h).includes('submit-lane-by-callbacks'));
    for (const h of byCallbacks) {
      assert.ok(activities(h).filter((a) => a === 'submitBatch').length >= 2, `${h.file}: creates more than one batch`);
    }
    assert.ok(
      byCallbacks.some((h) => {
        const done = completedTypes(h);
        const firstCollect = done.findIndex((t) => t === 'collectBatch' || t === 'collectBatches');
        return firstCollect !== -1 && firstCollect < done.lastIndexOf('submitBatch');
      }),
      'a job that took the submit-lane-by-callbacks patch and completed a collect before its last create completed',
    );
    /** Creates scheduled and not yet completed before the event at `at`. */
    const createsOutBefore = (h: RecordedHistory, at: number) => {
      const before = h.json.events.slice(0, at);
      const submits = new Set(
        before
          .filter((e) => (e.activityTaskScheduledEventAttributes as { activityType?: { name?: string } } | undefined)?.activityType?.name === 'submitBatch')
          .map((e) => String(e.eventId)),
      );
      const answered = before.filter((e) => {
        const c = e.activityTaskCompletedEventAttributes as { scheduledEventId?: string | number } | undefined;
        return c?.scheduledEventId !== undefined && submits.has(String(c.scheduledEventId));
      }).length;
      return submits.size - answered;
    };
    assert.ok(
      byCallbacks.some((h) => {
        const cancel = h.json.events.findIndex((e) => (e.workflowExecutionSignaledEventAttributes as { signalName?: string } | undefined)?.signalName === 'cancel');
        return cancel !== -1 && createsOutBefore(h, cancel) > 0;
      }),
      'a job with the submit lane by callbacks canceled while a create was still out',
    );
    assert.ok(
      // Its last completed activity a create: the continue-as-new waited for the lane to drain.
      byCallbacks.some((h) => h.json.events.at(-1)?.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW' && completedTypes(h).at(-1) === 'submitBatch'),
      'a job with the submit lane by callbacks that continued as new once its running creates had answered',
    );
    const signals = histories.flatMap((h) =>
      h.json.events.flatMap((e) => {
        const s = e.workflowExecutionSignaledEventAttributes as { signalName?: string } | undefined;
        return s?.signalName ? [s.signalName] : [];
      }),
    );
    for (const s of ['preempt', 'grantRoom', 'cancel', 'requestRoom', 'releaseRoom', 'leaveQueue', 'watchBatches', 'batchesEnded'])
      assert.ok(signals.includes(s), `a ${s} signal`);
    assert.ok(
      histories.some(
        (h) =>
          h.workflowType === 'sluiceJob' &&
          h.json.events.some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED') &&
          h.json.events.at(-1)?.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      ),
      'a job canceled the Temporal way that finished with its summary',
    );
  });

  test('hold no prompt text, no results and no path of the machine they were recorded on', () => {
    const repoRoot = path.resolve(__dirname, '..');
    for (const h of histories) {
      const raw = JSON.stringify(h.json);
      const payloads = decodedPayloads(h.json).join('\n');
      for (const text of [raw, payloads]) {
        assert.ok(!text.includes(RECORDED_PROMPT), `${h.file}: no prompt text`);
        assert.ok(!text.includes('Synthetic reply'), `${h.file}: no result text (the emulator's replies start so)`);
        assert.ok(!/"role"\s*:\s*"user"/.test(text), `${h.file}: no message parameters`);
        assert.ok(!text.includes(repoRoot), `${h.file}: not the repository's location`);
      }
      assert.ok(payloads.length > 0, `${h.file}: payloads were decoded, so the check above looked at them`);
    }
  });

  test('replay on the workflow code as it is now', { timeout: 300_000 }, async () => {
    assert.ok(histories.length >= 8, `${histories.length} histories`);
    assert.deepEqual(await replayAll(bundle, histories), []);
  });

  test(
    'a job workflow that decides differently fails the replay (the check can fail)',
    { timeout: 120_000 },
    async () => {
      const changed = await bundleWorkflowCode({
        workflowsPath: path.join(__dirname, 'fixtures', 'changed-job-workflow.ts'),
        logger: new DefaultLogger('WARN'),
      });
      const jobs = histories.filter((h) => h.workflowType === 'sluiceJob').slice(0, 1);
      const failures = await replayAll(changed, jobs);
      assert.equal(failures.length, 1);
      assert.match(failures[0]!, /Nondeterminism|DeterminismViolation/i);
    },
  );
});
