/**
 * Finalize: results.jsonl in input order (one line per request, exactly once), failures.jsonl, summary.json.
 * Works one original shard at a time, so memory follows the shard size, not the job size.
 */
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { addTallies, addUsage, cacheSavingUsd, emptyTally, type CostTally, type Usage } from '../domain/cost';
import { jobKeys, originalShardKey, type OutcomeLine, type OutcomeStatus, type ShardLine } from '../domain/job';
import type { ActivityDeps } from './deps';
import { writeReportAfterFinalize } from './report';
import type { SubmissionRecord } from './submit';
import type { FinalizeInput, JobSummary, PlanResult } from '../contracts/activities';

// Moved to src/contracts; re-exported so existing imports keep working.
export type { FinalizeInput, JobSummary };

export function finalizeActivity({ store, prices, webUiUrl }: ActivityDeps) {
  return async function finalizeJob(input: FinalizeInput): Promise<JobSummary> {
    const { jobId } = input;
    const outcomes: Record<OutcomeStatus, number> = { succeeded: 0, failed: 0, canceled: 0, sla_missed: 0, not_run: 0 };
    const attempts: Record<string, number> = {};
    const byMode = { batch: 0, sync: 0 };
    const tallies: Record<'batch' | 'sync', CostTally> = { batch: emptyTally(), sync: emptyTally() };
    const failures: string[] = [];
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

    // Shards cut by cache group do not follow input order: their outcomes are filed under input-order segments.
    const plan = await store.readJson<PlanResult>(jobKeys.plan(jobId));
    const segments = plan?.orderSegments;
    async function* inOrder(origin: number): AsyncIterable<{ custom_id: string; line: number; model: string }> {
      if (segments === undefined) {
        for await (const text of store.readLines(jobKeys.shard(jobId, originalShardKey(origin)))) {
          const r = JSON.parse(text) as ShardLine;
          yield { custom_id: r.custom_id, line: r.line, model: r.params.model };
        }
      } else {
        for await (const text of store.readLines(jobKeys.orderSegment(jobId, origin))) yield JSON.parse(text) as { custom_id: string; line: number; model: string };
      }
    }

    async function* resultLines(): AsyncIterable<string> {
      for (let origin = 0; origin < (segments ?? input.shardCount); origin++) {
        const known = new Map<string, OutcomeLine>();
        for (const key of await store.list(jobKeys.outcomesOf(jobId, origin))) {
          for await (const text of store.readLines(key)) {
            const o = JSON.parse(text) as OutcomeLine;
            if (!known.has(o.custom_id)) known.set(o.custom_id, o);
          }
        }
        for await (const req of inOrder(origin)) {
          const found = known.get(req.custom_id);
          if (!found && !input.jobCanceled && !input.stoppedEarly) missing.push(req.custom_id);
          const before = sentBefore.get(req.custom_id);
          const sent = inFlight.get(req.custom_id);
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
          if (o.attempts > 0) attempts[o.attempts] = (attempts[o.attempts] ?? 0) + 1;
          if (o.status === 'succeeded') {
            const mode = o.mode ?? 'batch';
            byMode[mode]++;
            const m = o.message as { model?: string; usage?: Usage };
            tallies[mode] = addUsage(tallies[mode], m.model ?? req.model, m.usage ?? {}, mode, prices);
            cacheSavedUsd += cacheSavingUsd(m.model ?? req.model, m.usage ?? {}, mode, prices) ?? 0;
          }
          const line = JSON.stringify(o);
          if (o.status === 'failed' || o.status === 'sla_missed') failures.push(line);
          yield line;
        }
        heartbeat({ origin });
      }
      // A job that ran to its end has an outcome for every request by construction; if not, say so and write nothing.
      if (missing.length > 0) throw outcomesMissing(jobId, missing);
    }

    await store.writeLines(jobKeys.output(jobId, 'results.jsonl'), resultLines());
    await store.writeLines(jobKeys.output(jobId, 'failures.jsonl'), failures);
    const tally = addTallies(tallies.batch, tallies.sync);
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
    };
    await store.writeJson(jobKeys.output(jobId, 'summary.json'), summary);
    await writeReportAfterFinalize({ store, prices, webUiUrl }, jobId); // report.html, next to the results
    return summary;
  };
}

const MISSING_IDS_SHOWN = 20;

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
