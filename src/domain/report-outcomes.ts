/**
 * The job report's view of results.jsonl, folded one outcome at a time so memory does not grow with the job:
 * cost by model, mode and token kind; outcomes by attempts; failures by error type with a few example custom_ids;
 * and when requests were settled. Only usage, model, status, error type and ids are read: never the answer text.
 */
import type { Usage } from './cost';
import type { OutcomeLine, OutcomeStatus } from './job';
import { DEFAULT_PRICES, type PriceTable } from './prices';
import { addByKind, costByKind, tokensByKind, zeroByKind, type ByTokenKind } from './report-cost';

/** custom_ids kept per error type, to show a person where to look. */
export const FAILURE_EXAMPLES = 5;

export interface CostRow {
  model: string;
  mode: 'batch' | 'sync';
  requests: number;
  tokens: ByTokenKind;
  /** What the requests cost as they ran. */
  usd: ByTokenKind;
  /** What they would have cost through the synchronous API. */
  syncEquivalentUsd: ByTokenKind;
  /** Requests whose model has no price: their tokens count, their cost does not. */
  unpriced: number;
}

export interface FailureGroup {
  /** The API's error type, or the outcome when there is none (canceled, not_run). */
  type: string;
  status: OutcomeStatus;
  count: number;
  examples: string[];
}

export interface OutcomeFacts {
  requests: number;
  costRows: CostRow[];
  failures: FailureGroup[];
  /** Requests by the attempts they took, split by final outcome: `{ "1": { succeeded: 97, failed: 1 } }`. */
  byAttempts: Record<string, Partial<Record<OutcomeStatus, number>>>;
  /** When requests got their answer (epoch ms → succeeded and failed), from the batch or sync shard that settled them. */
  settled: { atMs: number; succeeded: number; failed: number }[];
  /** Succeeded or failed requests whose settling time is not on record (counted at the job's end). */
  settledAtUnknownTime: number;
}

export interface OutcomeFoldContext {
  prices?: PriceTable;
  /** When the batch that settled a request ended (its last batch id). */
  batchEndedAtMs(batchId: string): number | undefined;
  /**
   * When the synchronous call of a request ended; `syncShard` is the sub-batch that answered it when the caller
   * knows it (finalize, from the outcome's file), else the context looks it up by custom_id.
   */
  syncEndedAtMs(customId: string, syncShard?: string): number | undefined;
  /** Used for outcomes whose time is unknown; read by result(), so a fold that runs before the job's end can set it last. */
  finishedAtMs: number;
}

export function createOutcomeFold(ctx: OutcomeFoldContext) {
  const prices = ctx.prices ?? DEFAULT_PRICES;
  const cost = new Map<string, CostRow>();
  const failures = new Map<string, FailureGroup>();
  const byAttempts: OutcomeFacts['byAttempts'] = {};
  const settled = new Map<number, { succeeded: number; failed: number }>();
  /** Settled at a time not on record: placed at ctx.finishedAtMs by result(). */
  const unknown = { succeeded: 0, failed: 0 };
  let requests = 0;
  let unknownTime = 0;

  function settle(o: OutcomeLine, field: 'succeeded' | 'failed', syncShard: string | undefined) {
    const lastBatch = o.batch_ids.at(-1);
    const atMs =
      o.mode === 'sync' ? ctx.syncEndedAtMs(o.custom_id, syncShard) : lastBatch ? ctx.batchEndedAtMs(lastBatch) : undefined;
    if (atMs === undefined) {
      unknownTime++;
      unknown[field]++;
      return;
    }
    const point = settled.get(atMs) ?? { succeeded: 0, failed: 0 };
    point[field]++;
    settled.set(atMs, point);
  }

  return {
    /** `syncShard`: the synchronous sub-batch whose call answered `o` under its own custom_id, when known. */
    add(o: OutcomeLine, syncShard?: string): void {
      requests++;
      const row = (byAttempts[String(o.attempts)] ??= {});
      row[o.status] = (row[o.status] ?? 0) + 1;
      if (o.status === 'succeeded') {
        const m = (o.message ?? {}) as { model?: unknown; usage?: Usage | null };
        const model = typeof m.model === 'string' ? m.model : 'unknown model';
        const mode = o.mode ?? 'batch';
        const usage = m.usage ?? {};
        const key = `${model}\u0000${mode}`;
        const r = cost.get(key) ?? {
          model,
          mode,
          requests: 0,
          tokens: zeroByKind(),
          usd: zeroByKind(),
          syncEquivalentUsd: zeroByKind(),
          unpriced: 0,
        };
        const usd = costByKind(model, usage, mode, prices);
        const syncUsd = costByKind(model, usage, 'sync', prices);
        r.requests++;
        r.tokens = addByKind(r.tokens, tokensByKind(usage));
        if (usd && syncUsd) {
          r.usd = addByKind(r.usd, usd);
          r.syncEquivalentUsd = addByKind(r.syncEquivalentUsd, syncUsd);
        } else r.unpriced++;
        cost.set(key, r);
        settle(o, 'succeeded', syncShard);
        return;
      }
      if (o.status === 'failed') settle(o, 'failed', syncShard);
      const type = o.error?.type ?? o.status;
      const g = failures.get(type) ?? { type, status: o.status, count: 0, examples: [] };
      g.count++;
      if (g.examples.length < FAILURE_EXAMPLES) g.examples.push(o.custom_id);
      failures.set(type, g);
    },

    result(): OutcomeFacts {
      const points = new Map(settled);
      if (unknownTime > 0) {
        const point = points.get(ctx.finishedAtMs) ?? { succeeded: 0, failed: 0 };
        points.set(ctx.finishedAtMs, { succeeded: point.succeeded + unknown.succeeded, failed: point.failed + unknown.failed });
      }
      return {
        requests,
        costRows: [...cost.values()].sort((a, b) => a.model.localeCompare(b.model) || a.mode.localeCompare(b.mode)),
        failures: [...failures.values()].sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)),
        byAttempts,
        settled: [...points.entries()].sort(([a], [b]) => a - b).map(([atMs, n]) => ({ atMs, ...n })),
        settledAtUnknownTime: unknownTime,
      };
    },
  };
}
