/**
 * Finalize: results.jsonl in input order (one line per request, exactly once), failures.jsonl, summary.json.
 * Works one original shard at a time, so memory follows the shard size, not the job size.
 */
import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { addTallies, addUsage, cacheSavingUsd, emptyTally, type CostTally, type Usage } from '../domain/cost';
import { LinePieces } from '../domain/line-pieces';
import { jobKeys, originalShardKey, type OutcomeLine, type OutcomeStatus, type PackRecord, type ShardLine } from '../domain/job';
import { measureTokensPerRow, MEASURED_ROWS, packingSummary } from './packing-summary';
import type { ActivityDeps } from './deps';
import { readOutcomeReport } from '../report/read-records';
import { writeReportAfterFinalize } from './report';
import { SpilledLines } from './spilled-lines';
import type { SubmissionRecord } from './submit';
import type { FinalizeInput, JobSummary, PlanResult } from '../contracts/activities';

// Moved to src/contracts; re-exported so existing imports keep working.
export type { FinalizeInput, JobSummary };

export function finalizeActivity({ store, prices, webUiUrl, metrics, anthropic }: ActivityDeps) {
  return async function finalizeJob(input: FinalizeInput): Promise<JobSummary> {
    metrics?.jobEnded(); // nothing of an ended job is in flight or at risk
    const { jobId } = input;
    const outcomes: Record<OutcomeStatus, number> = { succeeded: 0, failed: 0, canceled: 0, sla_missed: 0, not_run: 0, invalid_output: 0 };
    const attempts: Record<string, number> = {};
    const byMode = { batch: 0, sync: 0 };
    const tallies: Record<'batch' | 'sync', CostTally> = { batch: emptyTally(), sync: emptyTally() };
    // Found while results.jsonl is written, kept in parts in the store: memory does not grow with the failures.
    const attempt = activityInfo().attempt;
    const failures = new SpilledLines(store, (n) => jobKeys.outputPart(jobId, attempt, 'failures.jsonl', n));
    const invalid = new SpilledLines(store, (n) => jobKeys.outputPart(jobId, attempt, 'invalid-output.jsonl', n));
    let cacheSavedUsd = 0;
    const missing: string[] = [];

    // Requests left waiting for a retry when the job stopped early were sent before: say how often, and where.
    const sentBefore = new Map<string, Pick<ShardLine, 'attempt' | 'batch_ids'>>();
    if (input.jobCanceled || input.stoppedEarly) {
      for (const key of await store.list(jobKeys.retriesOf(jobId))) {
        for await (const text of store.readLines(key)) {
          const r = JSON.parse(text) as ShardLine;
          sentBefore.set(r.custom_id, { attempt: r.attempt, batch_ids: r.batch_ids });
        }
      }
    }

    // Requests in batches created but never collected (the job stopped on a fatal error, or while batches were
    // still in flight): sent, outcome unknown, possibly billed. Found from the submission records, so a create
    // that succeeded while a sibling submission failed is reported too.
    const inFlight = new Map<string, Pick<ShardLine, 'attempt' | 'batch_ids'>>();
    if (input.jobCanceled || input.stoppedEarly) {
      for (const key of await store.list(jobKeys.submissionsOf(jobId))) {
        const record = await store.readJson<SubmissionRecord>(key);
        if (!record?.batchId || (await wasCollected(record.shardKey, record.batchId))) continue;
        for await (const text of store.readLines(jobKeys.shard(jobId, record.shardKey))) {
          const r = JSON.parse(text) as ShardLine;
          inFlight.set(r.custom_id, { attempt: r.attempt, batch_ids: [...r.batch_ids, record.batchId] });
        }
      }
    }
    async function wasCollected(shardKey: string, batchId: string): Promise<boolean> {
      if (await store.exists(jobKeys.retries(jobId, batchId))) return true;
      const origins = new Set<number>();
      for await (const text of store.readLines(jobKeys.shard(jobId, shardKey))) origins.add((JSON.parse(text) as ShardLine).origin);
      for (const origin of origins) if (await store.exists(jobKeys.outcomes(jobId, origin, batchId))) return true;
      return false;
    }

    // The report's records, read now, and its fold fed as results.jsonl is written: the report does not read that file
    // again. Records that cannot be read now are read (or their failure logged) by the report, as before.
    const report = await readOutcomeReport(store, jobId, prices).catch(() => undefined);

    /** One request's outcome line (a row of a pack is settled under its own custom_id), counted and priced. */
    function settleLine(req: OrderEntry, sentAs: string, known: Map<string, KnownOutcome>): { line: string; status: OutcomeStatus } {
      const filed = known.get(req.custom_id);
      const found = filed?.outcome;
      if (!found && !input.jobCanceled && !input.stoppedEarly) missing.push(req.custom_id);
      const before = sentBefore.get(req.custom_id) ?? sentBefore.get(sentAs);
      const sent = inFlight.get(req.custom_id) ?? inFlight.get(sentAs);
      const o: OutcomeLine = found ?? {
        custom_id: req.custom_id,
        line: req.line,
        status: input.jobCanceled ? 'canceled' : 'not_run',
        attempts: sent ? sent.attempt : before ? before.attempt - 1 : 0,
        batch_ids: sent?.batch_ids ?? before?.batch_ids ?? [],
        ...(sent && {
          error: {
            type: 'in_flight_at_stop',
            message: `sent in ${sent.batch_ids.at(-1)}, still in flight when the job stopped: not collected, and may still be billed`,
          },
        }),
      };
      outcomes[o.status]++;
      // A request answered synchronously under its own custom_id (not a row of a pack): its sub-batch is in the file name.
      report?.fold.add(o, found?.mode === 'sync' && !found.pack ? filed?.syncShard : undefined);
      if (o.attempts > 0) attempts[o.attempts] = (attempts[o.attempts] ?? 0) + 1;
      const mode = o.mode ?? 'batch';
      if (o.status === 'succeeded') byMode[mode]++;
      // Every answer is paid for, also one that failed the output check (and those discarded before a retry). A row
      // answered in a pack has no message of its own: the pack's usage is counted once, from its record.
      if ((o.status === 'succeeded' || o.status === 'invalid_output') && o.message !== undefined) {
        const m = o.message as { model?: string; usage?: Usage };
        price(mode, m.model ?? req.model, m.usage ?? {});
      }
      for (const d of o.discarded ?? []) price(mode, d.model, d.usage);
      // An outcome filed by collect is written as it was filed (its JSON text), not serialised again.
      return { line: filed?.text ?? JSON.stringify(o), status: o.status };
    }
    function price(mode: 'batch' | 'sync', model: string, usage: Usage) {
      tallies[mode] = addUsage(tallies[mode], model, usage, mode, prices);
      cacheSavedUsd += cacheSavingUsd(model, usage, mode, prices) ?? 0;
    }
    let prompts = 0;
    const measuredPacks: ShardLine[] = [];

    // Shards cut by cache group do not follow input order: their outcomes are filed under input-order segments.
    const plan = await store.readJson<PlanResult>(jobKeys.plan(jobId));
    const segments = plan?.orderSegments;

    /** One original shard's (or order segment's) requests and the outcomes filed for them (the first one counts). */
    async function loadShard(origin: number): Promise<{ known: Map<string, KnownOutcome>; requests: OrderEntry[] }> {
      const known = new Map<string, KnownOutcome>();
      const prefix = jobKeys.outcomesOf(jobId, origin);
      for (const key of await store.list(prefix)) {
        const syncShard = syncShardOfOutcomes(key.slice(prefix.length));
        for await (const text of store.readLines(key)) {
          const outcome = JSON.parse(text) as OutcomeLine;
          if (!known.has(outcome.custom_id)) known.set(outcome.custom_id, { outcome, text, syncShard });
        }
      }
      const requests: OrderEntry[] = [];
      if (segments !== undefined) {
        for await (const text of store.readLines(jobKeys.orderSegment(jobId, origin))) requests.push(JSON.parse(text) as OrderEntry);
        return { known, requests };
      }
      for await (const text of store.readLines(jobKeys.shard(jobId, originalShardKey(origin)))) {
        const settled = settledEntry(text, known);
        if (settled) {
          requests.push(settled);
          continue;
        }
        const r = JSON.parse(text) as ShardLine;
        if (r.pack && measuredPacks.reduce((n, p) => n + (p.pack?.length ?? 0), 0) < MEASURED_ROWS) measuredPacks.push(r);
        requests.push({ custom_id: r.custom_id, line: r.line, model: r.params.model, ...(r.pack && { pack: r.pack.map((p) => ({ custom_id: p.custom_id, line: p.line })) }) });
      }
      return { known, requests };
    }

    async function packsToMeasureFromShards() {
      for (let shard = 0; shard < input.shardCount; shard++) {
        for await (const text of store.readLines(jobKeys.shard(jobId, originalShardKey(shard)))) {
          const r = JSON.parse(text) as ShardLine;
          if (!r.pack) continue;
          if (measuredPacks.reduce((n, p) => n + (p.pack?.length ?? 0), 0) >= MEASURED_ROWS) return;
          measuredPacks.push(r);
        }
      }
    }

    async function* resultLines(): AsyncIterable<string> {
      const count = segments ?? input.shardCount;
      // The next few shards are read while this one is written: the store's reads overlap, memory stays a few shards.
      const ahead: Promise<Awaited<ReturnType<typeof loadShard>>>[] = [];
      let next = 0;
      const fill = () => {
        while (next < count && ahead.length < SHARDS_READ_AHEAD) {
          const p = loadShard(next++);
          p.catch(() => undefined); // awaited in order below; a failure is thrown there
          ahead.push(p);
        }
      };
      for (let origin = 0; origin < count; origin++) {
        fill();
        const { known, requests } = await ahead.shift()!;
        // A shard's lines go to the store in a few pieces (the same bytes as line by line, in far fewer writes).
        const pieces = new LinePieces();
        for (const entry of requests) {
          if (entry.pack) prompts++;
          // A packed request's outcomes are its rows', filed under their own custom_ids.
          for (const row of entry.pack ?? [entry]) {
            const { line, status } = settleLine({ ...row, model: entry.model }, entry.custom_id, known);
            if (status === 'failed' || status === 'sla_missed') await failures.add(line);
            if (status === 'invalid_output') await invalid.add(line);
            const piece = pieces.add(line);
            if (piece !== undefined) yield piece;
          }
        }
        const last = pieces.flush();
        if (last !== undefined) yield last;
        heartbeat({ origin });
      }
      // A job that ran to its end has an outcome for every request by construction; if not, say so and write nothing.
      if (missing.length > 0) throw outcomesMissing(jobId, missing);
    }

    try {
      await store.writeLines(jobKeys.output(jobId, 'results.jsonl'), resultLines());
      await store.writeLines(jobKeys.output(jobId, 'failures.jsonl'), failures.lines());
      if (input.outputChecked || invalid.count > 0) await store.writeLines(jobKeys.output(jobId, 'invalid-output.jsonl'), invalid.lines());
    } finally {
      // Never hides the error that ended the writes; parts left behind are swept by the next attempt that ends well.
      for (const r of await Promise.allSettled([failures.remove(), invalid.remove()])) {
        if (r.status === 'rejected') log.warn('Could not delete finalize parts', { jobId, error: String(r.reason) });
      }
    }
    await removeStaleParts(store, jobId, attempt);
    // Packed prompts were paid whether their answer was usable or not.
    const packRecords: PackRecord[] = [];
    for (const key of await store.list(jobKeys.packsOf(jobId))) {
      for await (const text of store.readLines(key)) packRecords.push(JSON.parse(text) as PackRecord);
    }
    for (const r of packRecords) price(r.mode, r.model, r.usage);
    const tally = addTallies(tallies.batch, tallies.sync);
    const rows = Object.values(outcomes).reduce((a, b) => a + b, 0);
    // Shards cut by cache group were not read by input order above: the packs to measure come from the shards.
    if (segments !== undefined && prompts > 0) await packsToMeasureFromShards();
    const packing =
      prompts > 0 ? packingSummary(rows, prompts, packRecords, tally.usd, await measureTokensPerRow(anthropic, measuredPacks)) : undefined;
    const summary: JobSummary = {
      jobId,
      name: input.name,
      requests: Object.values(outcomes).reduce((a, b) => a + b, 0),
      outcomes,
      attempts,
      byMode,
      tokens: {
        input: tally.inputTokens,
        output: tally.outputTokens,
        cacheCreation: tally.cacheCreationInputTokens,
        cacheRead: tally.cacheReadInputTokens,
      },
      costUsd: round6(tally.usd),
      costByMode: { batch: round6(tallies.batch.usd), sync: round6(tallies.sync.usd) },
      syncEquivalentUsd: round6(tally.syncEquivalentUsd),
      savedUsd: round6(tally.syncEquivalentUsd - tally.usd),
      cacheSavedUsd: round6(cacheSavedUsd),
      unpricedModels: tally.unpricedModels,
      batchesCreated: input.batchesCreated,
      apiCalls: input.apiCalls,
      wallTimeMs: Date.now() - input.startedAtMs,
      finishedAt: new Date().toISOString(),
      ...(input.budget
        ? {
            budget: {
              limitUsd: input.budget.limitUsd,
              spentUsd: round6(input.budget.spentUsd),
              reservedUsd: round6(input.budget.reservedUsd),
              peakCommittedUsd: round6(input.budget.peakCommittedUsd),
            },
          }
        : {}),
      ...(input.canary && { canary: input.canary }),
      ...(packing && { packing }),
    };
    await store.writeJson(jobKeys.output(jobId, 'summary.json'), summary);
    await writeReportAfterFinalize({ store, prices, webUiUrl }, jobId, report); // report.html, next to the results
    return summary;
  };
}

/** An outcome as collect (or the synchronous lane) filed it, its JSON text, and the sync sub-batch that filed it. */
interface KnownOutcome {
  outcome: OutcomeLine;
  text: string;
  syncShard: string | undefined;
}

/** The synchronous sub-batch named by an outcomes file (outcomes/<origin>/sync-<shard>.jsonl); undefined for a batch's. */
function syncShardOfOutcomes(file: string): string | undefined {
  return file.startsWith(SYNC_OUTCOMES) && file.endsWith('.jsonl') ? file.slice(SYNC_OUTCOMES.length, -'.jsonl'.length) : undefined;
}
const SYNC_OUTCOMES = 'sync-';

/** The start of a shard line the plan wrote: its custom_id (the API's characters only) and line. */
const SHARD_LINE_HEAD = /^\{"custom_id":"([a-zA-Z0-9_-]{1,64})","line":(\d+),/;

/**
 * A shard line's entry without parsing its prompt, when the outcome filed for it says all that settling needs: the
 * request is not a pack (its rows would be settled instead) and its answer, if any, names its model (else the
 * request's model prices it). Undefined: parse the line.
 */
function settledEntry(text: string, known: Map<string, KnownOutcome>): OrderEntry | undefined {
  const head = SHARD_LINE_HEAD.exec(text);
  if (!head || text.includes('"pack":[')) return undefined;
  const found = known.get(head[1]!)?.outcome;
  const model = (found?.message as { model?: unknown } | undefined)?.model;
  if (!found || (found.message !== undefined && typeof model !== 'string')) return undefined;
  return { custom_id: head[1]!, line: Number(head[2]), model: typeof model === 'string' ? model : '' };
}

/** A request in input order, as finalize settles it: a packed one names its rows. */
interface OrderEntry {
  custom_id: string;
  line: number;
  model: string;
  pack?: { custom_id: string; line: number }[];
}

const MISSING_IDS_SHOWN = 20;
const SHARDS_READ_AHEAD = 8;

function outcomesMissing(jobId: string, ids: string[]): ApplicationFailure {
  const shown = ids.slice(0, MISSING_IDS_SHOWN).join(', ');
  const more = ids.length > MISSING_IDS_SHOWN ? ` and ${ids.length - MISSING_IDS_SHOWN} more` : '';
  return ApplicationFailure.nonRetryable(
    `Job ${jobId} is not done: ${ids.length} requests have no outcome (a bug; nothing was written to output): ${shown}${more}`,
    'OutcomesMissing',
  );
}

function round6(n: number) {
  return Math.round(n * 1e6) / 1e6;
}

/**
 * Parts an earlier attempt left (it died or timed out mid-write): that attempt's result can no longer be accepted, so
 * its parts are of no use to anyone. A later attempt's parts are left alone: it may still be running.
 */
async function removeStaleParts(store: ActivityDeps['store'], jobId: string, attempt: number): Promise<void> {
  const prefix = jobKeys.outputPartsOf(jobId);
  for (const key of await store.list(prefix)) {
    const owner = Number(key.slice(prefix.length).split('/')[0]);
    if (Number.isInteger(owner) && owner < attempt) await store.delete(key);
  }
}
