/**
 * The intake as it ran before its buffer moved to the store (kept so intakes started then, and their recorded
 * histories, run on unchanged). A named intake: requests arrive over time through the `enqueue` update, wait in a buffer (their bodies in the
 * store), and leave as sub-batches, each run as a child job: when 100 are waiting, or when the oldest reaches its
 * latest safe submission time. Urgent requests go to the synchronous API at once. It continues as new to stay
 * small over weeks.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { SluiceActivities } from '../contracts/activities';
import { cutsDue, nextCutMs, planBuffered, type IntakeOptions, type Tier } from '../domain/intake';
import { JobOptionsSchema, type JobSpec } from '../domain/job';
import { CUSTOM_ID_PATTERN } from '../domain/custom-id';
import { NEVER_RETRIED_ERROR_TYPES } from './activity-options';
import { initialIntakeState, intakeDetails, intakeStatusOf, type IntakeState } from './intake-state';
import { sluiceJob } from './job';
import {
  enqueueUpdate,
  flushUpdate,
  intakeStatusQuery,
  requestStatusQuery,
  requestDoneSignal,
  type EnqueueInput,
  type EnqueueResult,
} from '../contracts/messages';
import { intakeWorkflowId } from '../contracts/workflow-ids';

/** patched() id: child job ids carry the incarnation (histories recorded before it keep the old ids). */
const INCARNATION_CHILD_IDS = 'intake-child-ids-per-incarnation';

/** The random end of the first run id of this intake's continue-as-new chain: the same in every run of it. */
function incarnationTag(firstRunId: string): string {
  return firstRunId.replace(/-/g, '').slice(-10).toLowerCase();
}

export interface LegacyIntakeInput {
  name: string;
  options: IntakeOptions;
  state?: IntakeState;
}

// Both intake activities are small (a sub-batch's bodies, a describe per job): a crashed worker's attempt is
// retried soon.
const acts = proxyActivities<SluiceActivities>({
  startToCloseTimeout: '30s',
  // No attempt limit: an intake lives for weeks and must wait out an outage; what waiting cannot fix (a missing
  // store blob) is never retried.
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: NEVER_RETRIED_ERROR_TYPES },
});


export async function legacyIntake({ name, options: o, state }: LegacyIntakeInput): Promise<void> {
  const s = state ?? initialIntakeState(name);
  let dirty = false;
  const known = new Map<string, string>(); // custom_id → where it is ('buffer', 'urgent' or a job id)
  for (const b of s.buffer) known.set(b.customId, 'buffer');
  for (const u of s.urgent) known.set(u.customId, 'urgent');
  for (const [id, job] of [...s.done, ...s.inFlight]) known.set(id, job);

  setHandler(intakeStatusQuery, () => intakeStatusOf(s, o, Date.now()));
  // Cut everything waiting at the next round, whatever its cut time.
  let flushing = false;
  setHandler(flushUpdate, async () => {
    const requests = s.buffer.length + s.urgent.length;
    flushing = true;
    dirty = true;
    await condition(() => !flushing);
    return { requests };
  });
  setHandler(requestStatusQuery, (customId) => {
    const where = known.get(customId);
    if (!where) return { custom_id: customId, state: 'unknown' };
    if (where === 'buffer')
      return { custom_id: customId, state: 'buffered', tier: s.buffer.find((b) => b.customId === customId)?.tier };
    if (where === 'urgent') return { custom_id: customId, state: 'buffered', tier: 'urgent' };
    const inFlight = s.jobs.some((j) => j.jobId === where);
    return { custom_id: customId, state: inFlight ? 'in_flight' : 'done', jobId: where };
  });
  setHandler(
    enqueueUpdate,
    (input) => {
      const now = Date.now();
      const room = o.maxBuffered - s.buffer.length - s.urgent.length;
      const results: EnqueueResult['results'] = [];
      let accepted = 0;
      for (const item of input.items) {
        if (known.has(item.custom_id)) {
          s.counters.duplicates++;
          results.push({ custom_id: item.custom_id, status: 'duplicate', reason: 'already accepted' });
          continue;
        }
        if (accepted >= room) {
          s.counters.refusedFull++;
          results.push({ custom_id: item.custom_id, status: 'refused', reason: queueFullMessage(o) });
          continue;
        }
        accepted++;
        const tier = item.tier ?? o.defaultTier;
        if (tier === 'urgent') {
          s.urgent.push({
            customId: item.custom_id,
            segment: input.segment,
            enqueuedAtMs: now,
            notifyWorkflowId: item.notifyWorkflowId,
          });
          known.set(item.custom_id, 'urgent');
        } else {
          s.buffer.push({
            ...planBuffered(item.custom_id, tier, now, o, item.deadlineMs),
            segment: input.segment,
            notifyWorkflowId: item.notifyWorkflowId,
          });
          known.set(item.custom_id, 'buffer');
        }
        s.recentEnqueues.push(now);
        s.counters.enqueued++;
        results.push({ custom_id: item.custom_id, status: 'accepted' });
      }
      if (s.recentEnqueues.length > 1_000) s.recentEnqueues = s.recentEnqueues.slice(-1_000);
      dirty = true;
      return { results };
    },
    {
      // Refused before it is written to history: a full queue, or items that are not what a client sends.
      validator: (input: EnqueueInput) => {
        if (!input.segment || !Array.isArray(input.items) || input.items.length === 0)
          throw new Error('enqueue needs a segment and at least one item');
        for (const item of input.items) {
          if (typeof item.custom_id !== 'string' || !CUSTOM_ID_PATTERN.test(item.custom_id)) {
            throw new Error(`custom_id must match ${CUSTOM_ID_PATTERN.source} (got ${JSON.stringify(item.custom_id)})`);
          }
        }
        if (s.buffer.length + s.urgent.length >= o.maxBuffered) throw new Error(queueFullMessage(o));
      },
    },
  );

  for (;;) {
    const now = Date.now();
    const nextCut = nextCutMs(s.buffer);
    const waitMs = Math.max(
      1,
      Math.min(
        nextCut === undefined ? Infinity : nextCut - now,
        s.jobs.length ? o.checkEveryMs : Infinity,
        24 * 3_600_000,
      ),
    );
    await condition(() => dirty, waitMs);
    dirty = false;

    await cutUrgent();
    await cutDue();
    if (s.jobs.length) await checkJobs();
    setCurrentDetails(intakeDetails(intakeStatusOf(s, o, Date.now())));

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > o.maxHistoryEvents) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof legacyIntake>({ name, options: o, state: { ...s, run: s.run + 1 } });
    }
  }

  async function cutUrgent() {
    if (s.urgent.length === 0 || s.jobs.length >= o.maxJobsInFlight) return;
    const items = s.urgent.splice(0, o.batchSize);
    await startCut('urgent', items, { mode: 'sync', syncConcurrency: o.syncConcurrency, syncThreshold: 0 });
    if (s.urgent.length) dirty = true;
  }

  async function cutDue() {
    const asOf = flushing ? Infinity : Date.now();
    flushing = false;
    for (const ids of cutsDue(s.buffer, asOf, o.batchSize)) {
      if (s.jobs.length >= o.maxJobsInFlight) return;
      const chosen = new Set(ids);
      const items = s.buffer.filter((b) => chosen.has(b.customId));
      s.buffer = s.buffer.filter((b) => !chosen.has(b.customId));
      const deadlineMs = Math.min(...items.map((b) => b.deadlineMs));
      const tier = items[0]!.tier;
      const rule = o.tiers[tier];
      const learned = o.window === 'learned' ? { window: 'learned' } : {}; // only then: other cuts start as before
      await startCut(tier, items, { deadlineMs, windowMs: rule.windowMs, marginMs: rule.marginMs, syncConcurrency: o.syncConcurrency, ...learned });
    }
  }

  async function startCut(
    tier: Tier,
    items: { customId: string; segment: string; notifyWorkflowId?: string }[],
    sla: Record<string, unknown>,
  ) {
    s.cuts++;
    // An intake recreated after it closed counts its cuts from 1 again: its children's ids name this incarnation,
    // so they never reuse the store prefix of an earlier incarnation's child (whose plan is already there).
    const incarnation = patched(INCARNATION_CHILD_IDS) ? `-${incarnationTag(workflowInfo().firstExecutionRunId)}` : '';
    const jobId = `${intakeWorkflowId(name)}${incarnation}-${String(s.cuts).padStart(6, '0')}`;
    const { inputKey, requestCount } = await acts.cutIntakeShard.executeWithOptions(
      { startToCloseTimeout: '30s', summary: `cut ${items.length} ${tier} requests into ${jobId}` },
      [{ intake: name, jobId, items: items.map((i) => ({ customId: i.customId, segment: i.segment })) }],
    );
    const options = JobOptionsSchema.parse({ ...o.job, batchSize: o.batchSize, sla });
    const spec: JobSpec = {
      jobId,
      name: `${name}-${tier}`,
      inputKey,
      requestCount,
      options,
      source: `intake ${name}`,
      submittedAtMs: Date.now(),
    };
    await startChild(sluiceJob, {
      workflowId: jobId,
      args: [{ spec }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `Sub-batch ${s.cuts} of intake "${name}": ${requestCount} ${tier} requests`,
    });
    s.jobs.push({
      jobId,
      tier,
      requests: requestCount,
      startedAtMs: Date.now(),
      notify: items.filter((i) => i.notifyWorkflowId).map((i) => [i.customId, i.notifyWorkflowId!]),
    });
    for (const i of items) {
      known.set(i.customId, jobId);
      s.inFlight.push([i.customId, jobId]);
    }
    s.counters.cutRequests += requestCount;
    if (tier !== 'urgent') {
      s.counters.coalescedCuts++;
      s.counters.coalescedRequests += requestCount;
    }
  }

  async function checkJobs() {
    const { finished } = await acts.checkIntakeJobs.executeWithOptions(
      { startToCloseTimeout: '30s', summary: `check ${s.jobs.length} sub-batches in flight` },
      [{ intake: name, jobs: s.jobs.map((j) => ({ jobId: j.jobId, notifyIds: j.notify.map(([id]) => id) })) }],
    );
    for (const f of finished) {
      const job = s.jobs.find((j) => j.jobId === f.jobId);
      if (!job) continue;
      s.jobs = s.jobs.filter((j) => j.jobId !== f.jobId);
      s.counters.succeeded += f.succeeded;
      s.counters.failed += f.failed;
      s.counters.other += f.other;
      s.counters.costUsd += f.costUsd;
      const moved = s.inFlight.filter(([, j]) => j === f.jobId);
      s.inFlight = s.inFlight.filter(([, j]) => j !== f.jobId);
      s.done.push(...moved);
      while (s.done.length > o.rememberDone) known.delete(s.done.shift()![0]);
      await Promise.all(
        job.notify.map(async ([customId, workflowId]) => {
          try {
            await getExternalWorkflowHandle(workflowId).signal(requestDoneSignal, {
              intake: name,
              custom_id: customId,
              status: f.statuses[customId] ?? 'unknown',
              jobId: f.jobId,
            });
          } catch {
            // The waiting workflow is gone: nobody to tell.
          }
        }),
      );
    }
  }
}

function queueFullMessage(o: IntakeOptions): string {
  return `queue full: ${o.maxBuffered} requests are waiting (the intake's maxBuffered); retry later or raise the limit`;
}
