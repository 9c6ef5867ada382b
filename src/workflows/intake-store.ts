/**
 * The intake with its buffer and de-duplication records in the store. An `enqueue` update has its requests
 * admitted by an activity (one durable record per custom_id, so one is accepted once for the intake's whole life)
 * and keeps only the summary of the chunk written for them. Cuts take chunk lines into jobs, which report back when
 * they end; a job not heard from for `silentCheckAfterMs` is described instead. What the workflow keeps
 * is a few summaries and the jobs in flight, whatever the buffer's depth, so it continues as new with a small input.
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
import { SWEEP_LISTS_PER_CALL, type AdmitInput, type AdmitResult, type FinishedJob, type SluiceActivities } from '../contracts/activities';
import {
  enqueueUpdate,
  flushUpdate,
  INTAKE_HANDING_OVER,
  intakeStatusQuery,
  requestDoneSignal,
  requestStatusQuery,
  unrecordedChunksQuery,
  subBatchDoneSignal,
  subBatchDoneUpdate,
  type EnqueueInput,
  type EnqueueResult,
} from '../contracts/messages';
import { intakeKeys } from '../contracts/store-keys';
import { intakeWorkflowId } from '../contracts/workflow-ids';
import { CUSTOM_ID_PATTERN } from '../domain/custom-id';
import { DEFAULT_CUT_GATHER_MS, DEFAULT_MAX_CUT_REQUESTS, type IntakeOptions } from '../domain/intake';
import { JobOptionsSchema, type JobSpec } from '../domain/job';
import { NEVER_RETRIED_ERROR_TYPES } from './activity-options';
import { admitGroups, groupAdmitter } from './intake-admission';
import { afterRecording, afterSweep, applyCut, bufferedCount, compactionDue, planCuts, planCutsMany, recordingDueInMs, retireDue, silentJobs, sweepCutoffMs, waitManyMs, waitMs, type CutLimits, type PlannedCut } from './intake-decisions';
import { intakeDetails } from './intake-state';
import { countRate, initialStoreIntakeState, storeIntakeStatus, type StoreIntakeState } from './intake-store-state';
import { sluiceJob } from './job';

export interface StoreIntakeInput {
  name: string;
  options: IntakeOptions;
  state?: StoreIntakeState;
  /** Where its sub-batch jobs run when the intake has a queue of its own; unset: the intake's queue. */
  jobTaskQueue?: string;
}

/** patched() id: concurrent enqueue updates admitted together by one activity (intake-admission.ts). */
const GROUPED_ADMISSION = 'intake-admit-grouped';

/** patched() id: due cuts made CUTS_AT_ONCE at a time instead of one after the other. */
const PARALLEL_CUTS = 'intake-parallel-cuts';
const CUTS_AT_ONCE = 8;

/**
 * patched() id: chunks done with are listed for the retention sweep (retireIntakeChunks), and lists past the
 * intake's retention are swept (sweepIntake) with its records and bodies.
 */
const RETENTION = 'intake-retention';

/**
 * patched() id: the sweep runs beside the loop, one bounded call at a time (at most SWEEP_LISTS_PER_CALL lists, with
 * a heartbeat timeout so a timed-out attempt is canceled), the rest at later turns: cuts never wait behind it.
 */
const BOUNDED_SWEEP = 'intake-bounded-sweep';

/**
 * patched() id: deferred records. An admission claims no per-id record (a claim was a few file operations per request,
 * most of an admission's time): it writes its chunks, and looks for duplicates in the records and in the chunks whose
 * records are not written yet (marked `unrecorded`). recordIntakeChunks writes those records beside the loop.
 */
const DEFERRED_RECORDS = 'intake-deferred-records';
/** Continue-as-new waits again for update handlers after the sweep it awaited (updates accepted meanwhile). */
const HANDLERS_BEFORE_CONTINUE = 'intake-handlers-before-continue';

/**
 * patched() id: the handover to the next run. Once the intake is due to continue as new, it waits only for the
 * enqueues it has accepted: new ones are refused by the validator (nothing in history) with INTAKE_HANDING_OVER, and
 * the client sends them again to the next run. Before it, every enqueue arriving meanwhile was taken too, so under
 * steady traffic the wait for all handlers lasted as long as there was no gap, with no cut made meanwhile. A flush
 * waiting for its cuts is answered then, and its cuts carried into the next run (state.flushing): before, the loop
 * waited for the flush handler and the handler for the loop's cuts, and the intake stopped cutting.
 */
const HANDOVER = 'intake-handover';

/**
 * patched() id: the early handover. Once due to continue as new, the run starts no more cuts (nor merges, counts or
 * lists, all carried in the state for the next run): it refuses new enqueues at once and continues as soon as the
 * enqueues it accepted are answered. Before it, the run finished its round of cuts first (40-54 in flight, 10-12 s on
 * a quiet machine), and every enqueue sent meanwhile waited to be accepted until the run continued.
 */
const EARLY_HANDOVER = 'intake-early-handover';

/**
 * patched() id: a cut takes up to maxCutRequests into one child job, which splits them into sub-batches (one whole job
 * per sub-batch bounded the rate), and a tier holding a sub-batch gathers for cutGatherMs first (planCutsMany).
 * Decided once per run, at its start: a run begun on the old path keeps it until it continues as new.
 */
const CUT_MANY = 'intake-cut-many';

/**
 * patched() id: a quiet handover. The run starts its jobs by an activity, not as children, and waits for a recording
 * in flight before it continues as new: no child's start or end and no activity's answer lands while its
 * continue-as-new task runs (Temporal fails that task on any new event, and the worker replays the whole run: about
 * 4 s of a loaded worker at 3,500 events, seen failing again and again under a burst of job ends, 11-13 s of refused
 * enqueues). Its jobs report their end by update (job-end-by-update), which the server hands to the next run.
 * Decided once per run, at its start.
 */
const QUIET_HANDOVER = 'intake-quiet-handover';

/**
 * patched() id: with a queue of its own, the intake's bulk work (cuts, which read every body and write a job's input
 * and its records, and merges) runs on the jobs' queue, and its own worker keeps what an enqueue waits for
 * (admissions, its workflow tasks) and the small calls. Beside the cuts on one worker thread, an admission took 30 ms
 * at p50 and 186 ms at p99 (88 ms without them), and enqueue calls 509 ms at p99 (301 ms). They go ahead of the
 * jobs' own tasks there (priority 1 of 5), so a backlog of submits never holds up a cut, which the handover may
 * await. Recordings and sweeps stay: a handover awaits the one in flight, and it ran 2-4 times as long on the
 * jobs' busy worker. Decided once per run.
 */
const BULK_ON_JOB_QUEUE = 'intake-bulk-on-job-queue';

/**
 * patched() id: a run on the quiet path with deferred records admits by a local activity, inside the workflow task
 * that took the enqueue (intake-admission.ts). Decided once per run.
 */
const LOCAL_ADMISSION = 'intake-admit-local';

/** Chunk summaries kept per tier before they are merged into one. */
const MAX_CHUNKS_PER_TIER = 32;

const acts = proxyActivities<SluiceActivities>({
  startToCloseTimeout: '30s',
  // No attempt limit: an intake lives for weeks and must wait out an outage; a missing store blob is never retried.
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: NEVER_RETRIED_ERROR_TYPES },
});

/** The random end of the first run id of this intake's continue-as-new chain: the same in every run of it. */
export function incarnationTag(firstRunId: string): string {
  return firstRunId.replace(/-/g, '').slice(-10).toLowerCase();
}

export async function storeIntake({ name, options: o, state, jobTaskQueue }: StoreIntakeInput): Promise<void> {
  const s = state ?? initialStoreIntakeState(name);
  const incarnation = incarnationTag(workflowInfo().firstExecutionRunId);
  // Options of an intake created before these limits carry none: the defaults.
  const many: CutLimits | undefined = patched(CUT_MANY)
    ? { batchSize: o.batchSize, maxCutRequests: o.maxCutRequests ?? DEFAULT_MAX_CUT_REQUESTS, cutGatherMs: o.cutGatherMs ?? DEFAULT_CUT_GATHER_MS }
    : undefined;
  const quiet = patched(QUIET_HANDOVER);
  const bulkQueue = jobTaskQueue && patched(BULK_ON_JOB_QUEUE) ? { taskQueue: jobTaskQueue, priority: { priorityKey: 1 } } : {};
  // Only without child workflows (quiet), whose machines mishandled a local activity's marker on replay.
  const localAdmission = quiet && patched(DEFERRED_RECORDS) && patched(LOCAL_ADMISSION);
  // An intake upgraded mid-life: its earlier jobs held one sub-batch each, counted so (fill rate, status).
  if (many) {
    s.subBatches ??= s.cuts;
    s.coalescedSubBatches ??= s.counters.coalescedCuts;
  }
  // A flush handed over by the previous run: cut at the first turn.
  let flushing = s.flushing === true;
  // Handed over early (patch EARLY_HANDOVER): the previous run left ended jobs to count and cuts to make, so turn now.
  let dirty = flushing || s.turnNow === true;
  delete s.flushing;
  delete s.turnNow;
  /** The run is about to continue as new: a waiting flush is answered now and its cuts carried over. */
  let handingOver = false;
  /** The handover came on the early path (patch EARLY_HANDOVER): its round's work is the next run's. */
  let handedOverEarly = false;
  /** custom_ids in an admission that has not answered yet: one custom_id is never admitted by two calls at once. */
  const admitting = new Set<string>();
  let reserved = 0;
  /** The bounded sweep call in flight, if any (patch BOUNDED_SWEEP). */
  let sweeping: Promise<void> | undefined;
  /** The recordIntakeChunks call in flight, if any (patch DEFERRED_RECORDS). */
  let recording: Promise<void> | undefined;

  setHandler(intakeStatusQuery, () => storeIntakeStatus(s, o, Date.now(), many));
  // Where a request is lives in its record in the store, which a query cannot read: say where to ask rather than
  // answer "unknown" for a request this intake has (intakeRequest reads the record, and takes this refusal as unknown).
  setHandler(requestStatusQuery, () => {
    throw new Error(`intake ${name} keeps each request's record in the store, not in its workflow: ask with \`sluice intake request ${name} CUSTOM_ID\` (intakeRequest() from code)`);
  });
  setHandler(unrecordedChunksQuery, () => s.chunks.filter((c) => c.unrecorded).map((c) => c.key));
  const jobEnded = ({ jobId }: { jobId: string }) => {
    if (!s.ended.includes(jobId) && s.jobs.some((j) => j.jobId === jobId)) s.ended.push(jobId);
    dirty = true;
  };
  // Jobs started before job-end-by-update signal; later ones send an update (no command either way).
  setHandler(subBatchDoneSignal, jobEnded);
  setHandler(subBatchDoneUpdate, jobEnded);
  // Answers once everything that waited is cut (or, with every sub-batch slot taken, as soon as the slots allow).
  setHandler(flushUpdate, async () => {
    const requests = bufferedCount(s.chunks);
    flushing = true;
    dirty = true;
    await condition(() => !flushing || handingOver);
    return { requests };
  });
  const grouped = groupAdmitter(async (groups) => {
    s.chunkSeq++;
    const nowMs = Date.now();
    const room = Math.max(0, o.maxBuffered - bufferedCount(s.chunks));
    // Every chunk admitted before this one is in s.chunks by now (one admission at a time): none is missed.
    const deferred = patched(DEFERRED_RECORDS) ? { unrecorded: s.chunks.filter((c) => c.unrecorded).map((c) => c.key) } : {};
    const admitted = await admitGroups({
      ...deferred,
      intake: name,
      chunkKey: intakeKeys.bufferChunk(name, incarnation, s.chunkSeq),
      room,
      nowMs,
      plan: { tiers: o.tiers, cutLeadMs: o.cutLeadMs, defaultTier: o.defaultTier },
      groups,
    }, localAdmission);
    s.chunks.push(...admitted.chunks);
    s.counters.enqueued += admitted.accepted;
    s.rate = countRate(s.rate, nowMs, admitted.accepted);
    return admitted;
  });
  // Intakes whose history predates the group commit admit each update by its own activity, as they did.
  setHandler(enqueueUpdate, (input) => (patched(GROUPED_ADMISSION) ? admitTogether(input) : admit(input)), { validator: validateEnqueue });

  for (;;) {
    const recordIn = recording ? undefined : recordingDueInMs(s.chunks, Date.now());
    const wait = many
      ? waitManyMs(s.chunks, s.jobs, Date.now(), o.silentCheckAfterMs, many, s.jobs.length < o.maxJobsInFlight || flushing)
      : waitMs(s.chunks, s.jobs, Date.now(), o.silentCheckAfterMs);
    // Only marked chunks (patch DEFERRED_RECORDS) shorten the wait: histories before it wait as they did.
    await condition(() => dirty, recordIn === undefined ? wait : Math.max(1, Math.min(wait, recordIn)));
    dirty = false;

    // Due to continue as new (patch EARLY_HANDOVER): straight to the handover, the buffer's cuts go to the next run.
    if (!handOverEarly()) {
      await countEnded();
      await checkSilent();
      await compactIfDue();
      await cutWhatIsDue();
      // Handed over mid-round: recording and retiring are the next run's too (handingOver is never set here before
      // the patch, so older histories run both as they did).
      if (!handingOver) {
        // After the cuts: a chunk cut whole already has its records (the cut writes them), so it is not recorded twice.
        startRecording();
        await retireSpent();
      }
    }
    setCurrentDetails(intakeDetails(storeIntakeStatus(s, o, Date.now(), many)));

    // Due after the round's work: the early path too, so the next run turns at once (older histories: patched() is
    // false on replay and they go on as before).
    if (handOverEarly() || continueDue()) {
      // New enqueues go to the next run; a flush still cutting waits for this loop, so it is answered here (HANDOVER).
      if (patched(HANDOVER)) handingOver = true;
      await condition(allHandlersFinished);
      // A sweep still running is awaited (it is bounded): left running, it would delete beside the next run's.
      if (sweeping) await sweeping;
      // Its answer would be an event landing on the continue-as-new task (QUIET_HANDOVER); it takes a moment.
      if (quiet && recording) await recording;
      // Updates accepted while the sweep ran are still admitting: continued as new now, their callers would get an
      // error for requests the intake may have taken (seen at 1M requests under load). Wait for them too; nothing runs
      // between this wait and the continue-as-new below, so no other update starts.
      if (patched(HANDLERS_BEFORE_CONTINUE)) await condition(allHandlersFinished);
      // Runs before QUIET_HANDOVER leave a recording in flight (under load one always is): the marks go with the state,
      // and the next run records those chunks again, each record created only if missing.
      const carried = {
        ...s,
        run: s.run + 1,
        ...(handingOver && flushing ? { flushing: true as const } : {}),
        ...(handedOverEarly ? { turnNow: true as const } : {}),
      };
      await continueAsNew<typeof storeIntake>({ name, options: o, state: carried, ...(jobTaskQueue ? { jobTaskQueue } : {}) });
    }
  }

  function continueDue(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > o.maxHistoryEvents;
  }

  /** Due to continue as new, on the early handover's path: new enqueues are refused from now on. */
  function handOverEarly(): boolean {
    if (handingOver) return true;
    if (!continueDue() || !patched(EARLY_HANDOVER)) return false;
    handingOver = true;
    handedOverEarly = true;
    return true;
  }

  function validateEnqueue(input: EnqueueInput) {
    if (handingOver) throw new Error(INTAKE_HANDING_OVER);
    if (!input.segment || !Array.isArray(input.items) || input.items.length === 0) throw new Error('enqueue needs a segment and at least one item');
    for (const item of input.items) {
      if (typeof item.custom_id !== 'string' || !CUSTOM_ID_PATTERN.test(item.custom_id)) {
        throw new Error(`custom_id must match ${CUSTOM_ID_PATTERN.source} (got ${JSON.stringify(item.custom_id)})`);
      }
    }
    if (bufferedCount(s.chunks) + reserved >= o.maxBuffered) throw new Error(queueFullMessage(o));
  }

  async function admit(input: EnqueueInput): Promise<EnqueueResult> {
    const { results, items, mine, slot } = answerInFlight(input);
    if (items.length === 0) return { results };
    const room = Math.min(items.length, Math.max(0, o.maxBuffered - bufferedCount(s.chunks) - reserved));
    reserved += room;
    for (const id of mine) admitting.add(id);
    try {
      s.chunkSeq++;
      const now = Date.now();
      const admitted = await acts.admitIntakeRequests.executeWithOptions({ startToCloseTimeout: '30s', summary: `admit ${items.length} requests` }, [
        {
          intake: name,
          segment: input.segment,
          chunkKey: intakeKeys.bufferChunk(name, incarnation, s.chunkSeq),
          room,
          nowMs: now,
          plan: { tiers: o.tiers, cutLeadMs: o.cutLeadMs, defaultTier: o.defaultTier },
          items,
        },
      ]);
      s.chunks.push(...admitted.chunks);
      answerAdmitted(results, slot, admitted.notAccepted);
      s.counters.enqueued += admitted.accepted;
      s.rate = countRate(s.rate, now, admitted.accepted);
    } finally {
      reserved -= room;
      for (const id of mine) admitting.delete(id);
    }
    dirty = true;
    return { results };
  }

  /** Answers duplicates among calls in flight itself, then waits for the group admission its items join. */
  async function admitTogether(input: EnqueueInput): Promise<EnqueueResult> {
    const { results, items, mine, slot } = answerInFlight(input);
    if (items.length === 0) return { results };
    reserved += items.length;
    for (const id of mine) admitting.add(id);
    try {
      const { notAccepted } = await grouped.admit(input.segment, items);
      answerAdmitted(results, slot, notAccepted);
    } finally {
      reserved -= items.length;
      for (const id of mine) admitting.delete(id);
    }
    dirty = true;
    return { results };
  }

  /** Items whose custom_id is in this call twice or in another call being admitted are answered here. */
  function answerInFlight(input: EnqueueInput) {
    const results: EnqueueResult['results'] = [];
    const items: AdmitInput['items'] = [];
    const mine = new Set<string>();
    const slot: number[] = [];
    for (const item of input.items) {
      if (mine.has(item.custom_id) || admitting.has(item.custom_id)) {
        s.counters.duplicates++;
        results.push({ custom_id: item.custom_id, status: 'duplicate', reason: 'being accepted by another enqueue call right now' });
        continue;
      }
      mine.add(item.custom_id);
      items.push(item);
      slot.push(results.length);
      results.push({ custom_id: item.custom_id, status: 'accepted' });
    }
    return { results, items, mine, slot };
  }

  function answerAdmitted(results: EnqueueResult['results'], slot: number[], notAccepted: AdmitResult['notAccepted']) {
    for (const r of notAccepted) {
      if (r.status === 'duplicate') s.counters.duplicates++;
      if (r.status === 'refused') s.counters.refusedFull++;
      results[slot[r.at]!] = r.status === 'refused' ? { custom_id: r.custom_id, status: 'refused', reason: queueFullMessage(o) } : { custom_id: r.custom_id, status: r.status, reason: r.reason };
    }
  }

  async function compactIfDue() {
    const due = compactionDue(s.chunks, MAX_CHUNKS_PER_TIER);
    if (!due) return;
    const keys = new Set(due.keys);
    // Marked parts are named: the merge's other lines say they have records, and recording it writes only the rest.
    const parts = s.chunks.filter((c) => keys.has(c.key)).map((c) => ({ key: c.key, from: c.taken, ...(c.unrecorded ? { unrecorded: true as const } : {}) }));
    s.chunkSeq++;
    const merged = await acts.compactIntakeChunks.executeWithOptions(
      { startToCloseTimeout: '2m', summary: `merge ${parts.length} ${due.tier} chunks`, ...bulkQueue },
      [{ intake: name, key: intakeKeys.bufferChunk(name, incarnation, s.chunkSeq), tier: due.tier, parts }],
    );
    // The merge holds lines whose records may be missing still: it is recorded in its turn.
    const unrecorded = s.chunks.some((c) => keys.has(c.key) && c.unrecorded);
    s.chunks = [...s.chunks.filter((c) => !keys.has(c.key)), unrecorded ? { ...merged, unrecorded: true as const } : merged];
    spend([...keys]);
  }

  /**
   * Writes the records of the unrecorded chunks' lines not yet cut, one call at a time, not awaited: the enqueues
   * never wait for it. Until it answers, admissions look in those chunks; a chunk merged meanwhile stays marked.
   */
  function startRecording() {
    if (recording || recordingDueInMs(s.chunks, Date.now()) !== 0) return;
    const chunks = s.chunks.filter((c) => c.unrecorded);
    const keys = chunks.map((c) => c.key);
    const count = chunks.reduce((n, c) => n + c.count - c.taken, 0);
    recording = acts.recordIntakeChunks
      .executeWithOptions({ startToCloseTimeout: '1m', summary: `record ${count} requests of ${chunks.length} chunks` }, [
        { intake: name, parts: chunks.map((c) => ({ key: c.key, from: c.taken })) },
      ])
      // Failed for good (a non-retryable error): no mark goes (afterRecording).
      .catch((): undefined => undefined)
      .then((r) => {
        s.chunks = afterRecording(s.chunks, keys, r);
        recording = undefined;
        // Chunks admitted while it ran: the loop turns to record them.
        if (s.chunks.some((c) => c.unrecorded)) dirty = true;
      });
  }

  /** Marks chunks done with: listed for the sweep by retireSpent, once no cut reads them. */
  function spend(keys: string[]) {
    if (keys.length === 0) return;
    if (!s.spent?.length) s.spentSinceMs = Date.now();
    s.spent = [...(s.spent ?? []), ...keys];
  }

  /**
   * Lists the spent chunks for the sweep, then sweeps what is past retention. Called between rounds of cuts, so a
   * chunk that cuts made at once shared is listed only when all of them have read it.
   */
  async function retireSpent() {
    const now = Date.now();
    if (retireDue(s.spent?.length ?? 0, s.spentSinceMs, now, o) && patched(RETENTION)) {
      await listSpent(now);
      if (!patched(BOUNDED_SWEEP)) {
        await acts.sweepIntake.executeWithOptions({ startToCloseTimeout: '10m', summary: 'sweep what is past retention' }, [
          { intake: name, cutoffMs: sweepCutoffMs(o, now) },
        ]);
        return;
      }
      s.sweepDue = true;
    }
    if (s.sweepDue && !sweeping) startSweep();
  }

  async function listSpent(now: number) {
    s.chunkSeq++;
    const chunkKeys = s.spent!;
    await acts.retireIntakeChunks.executeWithOptions({ startToCloseTimeout: '1m', summary: `list ${chunkKeys.length} spent chunks for the sweep` }, [
      { intake: name, listKey: intakeKeys.retired(name, now, incarnation, s.chunkSeq), chunkKeys },
    ]);
    s.spent = s.spent!.slice(chunkKeys.length);
    s.spentSinceMs = s.spent.length ? now : undefined;
  }

  /** One bounded sweep call, not awaited: when it says more is due, the loop turns again and starts the next. */
  function startSweep() {
    s.sweepDue = undefined;
    const input = { intake: name, cutoffMs: sweepCutoffMs(o, Date.now()), maxLists: SWEEP_LISTS_PER_CALL };
    sweeping = acts.sweepIntake
      .executeWithOptions({ startToCloseTimeout: '5m', heartbeatTimeout: '1m', summary: `sweep up to ${input.maxLists} lists past retention` }, [input])
      .catch((): undefined => undefined) // failed for good (a non-retryable error)
      .then((swept) => {
        sweeping = undefined;
        const next = afterSweep(swept);
        // A retire while it ran may have asked for another already: that request stands.
        if (next.due) s.sweepDue = true;
        if (next.wake) dirty = true;
      });
  }

  async function cutWhatIsDue() {
    const flushed = flushing;
    const cuts = many ? planCutsMany(s.chunks, Date.now(), many, flushing) : planCuts(s.chunks, Date.now(), o.batchSize, flushing);
    if (patched(PARALLEL_CUTS)) {
      // A few cuts at once: one at a time, cutting (an activity, then a child start) was what capped the rate.
      const now = cuts.slice(0, Math.max(0, o.maxJobsInFlight - s.jobs.length));
      for (let i = 0; i < now.length; i += CUTS_AT_ONCE) {
        // Due to continue as new mid-round: the cuts not started yet are the next run's (a flush carries over).
        if (i > 0 && handOverEarly()) return;
        await Promise.all(now.slice(i, i + CUTS_AT_ONCE).map(startCut));
      }
      // A flush asked while this round (planned without it) was cutting stays for the next round (intake-cut-many):
      // else it would answer with requests still waiting for their cut time.
      if (now.length === cuts.length && (flushed || !many)) flushing = false;
      return;
    }
    let all = true;
    for (const cut of cuts) {
      if (s.jobs.length >= o.maxJobsInFlight) {
        all = false;
        break;
      }
      await startCut(cut);
    }
    // A flush still waiting for room carries on at the next round.
    if (all) flushing = false;
  }

  async function startCut(cut: PlannedCut) {
    s.cuts++;
    const jobId = `${intakeWorkflowId(name)}-${incarnation}-${String(s.cuts).padStart(6, '0')}`;
    const made = await acts.cutIntakeChunks.executeWithOptions(
      { startToCloseTimeout: '1m', summary: `cut ${cut.count} ${cut.tier} requests into ${jobId}`, ...bulkQueue },
      [{ intake: name, jobId, parts: cut.parts }],
    );
    const before = s.chunks.map((c) => c.key);
    s.chunks = applyCut(s.chunks, cut);
    const left = new Set(s.chunks.map((c) => c.key));
    spend(before.filter((k) => !left.has(k)));
    const rule = cut.tier === 'urgent' ? undefined : o.tiers[cut.tier];
    const sla = rule
      ? {
          deadlineMs: cut.deadlineMs,
          windowMs: rule.windowMs,
          marginMs: rule.marginMs,
          syncConcurrency: o.syncConcurrency,
          ...(o.syncRequestMs !== undefined ? { syncRequestMs: o.syncRequestMs } : {}),
          ...(o.window === 'learned' ? { window: 'learned' } : {}),
        }
      : { mode: 'sync', syncConcurrency: o.syncConcurrency, syncThreshold: 0 };
    const spec: JobSpec = {
      jobId,
      name: `${name}-${cut.tier}`,
      inputKey: made.inputKey,
      requestCount: made.requestCount,
      options: JobOptionsSchema.parse({ ...o.job, batchSize: o.batchSize, sla }),
      source: `intake ${name}`,
      submittedAtMs: Date.now(),
      reportTo: workflowInfo().workflowId,
    };
    // Metadata only (no command): a job of several sub-batches says so.
    const staticSummary = many
      ? `Job ${s.cuts} of intake "${name}": ${made.requestCount} ${cut.tier} requests in ${subBatchWords(Math.ceil(made.requestCount / o.batchSize))}`
      : `Sub-batch ${s.cuts} of intake "${name}": ${made.requestCount} ${cut.tier} requests`;
    const inFlight = (now: number) => ({ jobId, tier: cut.tier, requests: made.requestCount, startedAtMs: now, lastHeardMs: now, ...(made.notifyKey ? { notifyKey: made.notifyKey } : {}) });
    if (quiet) {
      // Known before it starts: a job that ends before this await returns (its update can come in the same activation
      // as the start's answer, or before it on a retried start) is counted, not left to the silent check.
      s.jobs.push(inFlight(Date.now()));
      await acts.startIntakeJob.executeWithOptions({ startToCloseTimeout: '30s', summary: `start job ${jobId}` }, [
        { spec, taskQueue: jobTaskQueue ?? workflowInfo().taskQueue, staticSummary },
      ]);
    } else {
      await startChild(sluiceJob, {
        workflowId: jobId,
        ...(jobTaskQueue ? { taskQueue: jobTaskQueue } : {}),
        args: [{ spec }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary,
      });
      s.jobs.push(inFlight(Date.now()));
    }
    s.counters.cutRequests += made.requestCount;
    const subBatches = Math.ceil(made.requestCount / o.batchSize);
    if (many) s.subBatches = (s.subBatches ?? 0) + subBatches;
    if (cut.tier !== 'urgent') {
      s.counters.coalescedCuts++;
      s.counters.coalescedRequests += made.requestCount;
      if (many) s.coalescedSubBatches = (s.coalescedSubBatches ?? 0) + subBatches;
    }
  }

  /** Jobs that reported their end: their summaries are written, so they are read without a describe. */
  async function countEnded() {
    if (s.ended.length === 0) return;
    const ended = new Set(s.ended);
    const jobs = s.jobs.filter((j) => ended.has(j.jobId));
    const { finished } = await acts.checkIntakeJobs.executeWithOptions(
      { startToCloseTimeout: '1m', summary: `count ${jobs.length} ended sub-batches` },
      [{ intake: name, jobs: jobs.map((j) => ({ jobId: j.jobId, notifyIds: [], ended: true, ...(j.notifyKey ? { notifyKey: j.notifyKey } : {}) })) }],
    );
    s.ended = s.ended.filter((id) => !ended.has(id));
    await settle(finished);
  }

  /** The fallback: jobs silent for long are described; a job terminated from outside never signals. */
  async function checkSilent() {
    const now = Date.now();
    const silent = silentJobs(s.jobs, now, o.silentCheckAfterMs);
    if (silent.length === 0) return;
    const { finished } = await acts.checkIntakeJobs.executeWithOptions(
      { startToCloseTimeout: '2m', summary: `describe ${silent.length} sub-batches not heard from` },
      [{ intake: name, jobs: silent.map((j) => ({ jobId: j.jobId, notifyIds: [], ...(j.notifyKey ? { notifyKey: j.notifyKey } : {}) })) }],
    );
    for (const j of silent) j.lastHeardMs = now;
    await settle(finished);
  }

  async function settle(finished: FinishedJob[]) {
    for (const f of finished) {
      if (!s.jobs.some((j) => j.jobId === f.jobId)) continue;
      s.jobs = s.jobs.filter((j) => j.jobId !== f.jobId);
      s.counters.succeeded += f.succeeded;
      s.counters.failed += f.failed;
      s.counters.other += f.other;
      s.counters.costUsd += f.costUsd;
      await Promise.all(
        (f.notify ?? []).map(async (n) => {
          try {
            await getExternalWorkflowHandle(n.workflowId).signal(requestDoneSignal, { intake: name, custom_id: n.custom_id, status: n.status, jobId: f.jobId });
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

function subBatchWords(n: number): string {
  return `${n} sub-batch${n === 1 ? '' : 'es'}`;
}
