/**
 * Finalize: results.jsonl in input order (one line per request, exactly once), failures.jsonl, summary.json.
 * Works one original shard at a time, so memory follows the shard size, not the job size.
 */
import { heartbeat } from '@temporalio/activity';
import { addTallies, addUsage, emptyTally, type CostTally, type Usage } from '../domain/cost';
import { jobKeys, originalShardKey, type OutcomeLine, type OutcomeStatus, type ShardLine } from '../domain/job';
import type { ActivityDeps } from './deps';

export interface FinalizeInput {
  jobId: string;
  name: string;
  shardCount: number;
  /** Requests without an outcome are 'canceled' when the job was canceled, else 'not_run'. */
  jobCanceled: boolean;
  /** The job stopped on a fatal error: requests without an outcome are not_run. */
  stoppedEarly?: boolean;
  startedAtMs: number;
  batchesCreated: number;
  apiCalls: Record<string, number>;
}

export interface JobSummary {
  jobId: string;
  name: string;
  requests: number;
  outcomes: Record<OutcomeStatus, number>;
  /** How many requests needed 1, 2, 3... attempts. */
  attempts: Record<string, number>;
  byMode: { batch: number; sync: number };
  tokens: { input: number; output: number; cacheCreation: number; cacheRead: number };
  costUsd: number;
  /** What the batch and the synchronous requests cost, apart. */
  costByMode: { batch: number; sync: number };
  syncEquivalentUsd: number;
  savedUsd: number;
  unpricedModels: string[];
  batchesCreated: number;
  apiCalls: Record<string, number>;
  wallTimeMs: number;
  finishedAt: string;
}

export function finalizeActivity({ store, prices }: ActivityDeps) {
  return async function finalizeJob(input: FinalizeInput): Promise<JobSummary> {
    const { jobId } = input;
    const outcomes: Record<OutcomeStatus, number> = { succeeded: 0, failed: 0, canceled: 0, sla_missed: 0, not_run: 0 };
    const attempts: Record<string, number> = {};
    const byMode = { batch: 0, sync: 0 };
    const tallies: Record<'batch' | 'sync', CostTally> = { batch: emptyTally(), sync: emptyTally() };
    const failures: string[] = [];

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

    async function* resultLines(): AsyncIterable<string> {
      for (let origin = 0; origin < input.shardCount; origin++) {
        const known = new Map<string, OutcomeLine>();
        for (const key of await store.list(jobKeys.outcomesOf(jobId, origin))) {
          for await (const text of store.readLines(key)) {
            const o = JSON.parse(text) as OutcomeLine;
            if (!known.has(o.custom_id)) known.set(o.custom_id, o);
          }
        }
        for await (const text of store.readLines(jobKeys.shard(jobId, originalShardKey(origin)))) {
          const req = JSON.parse(text) as ShardLine;
          const before = sentBefore.get(req.custom_id);
          const o: OutcomeLine = known.get(req.custom_id) ?? {
            custom_id: req.custom_id,
            line: req.line,
            status: input.jobCanceled ? 'canceled' : 'not_run',
            attempts: before ? before.attempt - 1 : 0,
            batch_ids: before?.batch_ids ?? [],
          };
          outcomes[o.status]++;
          if (o.attempts > 0) attempts[o.attempts] = (attempts[o.attempts] ?? 0) + 1;
          if (o.status === 'succeeded') {
            const mode = o.mode ?? 'batch';
            byMode[mode]++;
            const m = o.message as { model?: string; usage?: Usage };
            tallies[mode] = addUsage(tallies[mode], m.model ?? req.params.model, m.usage ?? {}, mode, prices);
          }
          const line = JSON.stringify(o);
          if (o.status === 'failed' || o.status === 'sla_missed') failures.push(line);
          yield line;
        }
        heartbeat({ origin });
      }
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
      unpricedModels: tally.unpricedModels,
      batchesCreated: input.batchesCreated,
      apiCalls: input.apiCalls,
      wallTimeMs: Date.now() - input.startedAtMs,
      finishedAt: new Date().toISOString(),
    };
    await store.writeJson(jobKeys.output(jobId, 'summary.json'), summary);
    return summary;
  };
}

function round6(n: number) {
  return Math.round(n * 1e6) / 1e6;
}
