/**
 * The job's budget, as the workflow applies it: which of the sub-batches the decisions picked still fit the budget
 * (in order, stopping at the first that does not, so the job never skips ahead of its checkpoint), their
 * reservations, and what is spent when they are collected. Pure updates of the plain state; the rules themselves
 * are in src/domain/budget.ts.
 */
import { fits, newLedger, reserve, settle, syncWorstOf, type BudgetLedger } from '../domain/budget';
import type { ShardRef } from '../domain/job';
import type { Route } from '../domain/sla-route';
import type { BudgetView } from '../contracts/activities';

/** The part of the job's state a budget lives in (job-state.ts holds it; no import back, to keep the two apart). */
export interface BudgetedState {
  budget?: BudgetLedger;
  /** Worst-case USD of each original shard at batch prices, from the plan. */
  shardWorstUsd?: number[];
}

/** The ledger a job starts with: only jobs with a budget have one. */
export function initialBudget(budgetUsd: number | undefined): BudgetLedger | undefined {
  return budgetUsd === undefined ? undefined : newLedger(budgetUsd);
}

/** A shard's worst case by the route it would take (synchronous calls cost twice the batch price). */
export function shardWorstUsd(s: BudgetedState, shard: ShardRef, route: Route): number {
  const batch = shard.worstUsd ?? (shard.key.startsWith('s') ? s.shardWorstUsd?.[Number(shard.key.slice(1))] : undefined) ?? 0;
  return route === 'sync' ? syncWorstOf(batch) : batch;
}

/** The picks that fit the budget, and whether the budget held any back. Reported sla_missed work costs nothing. */
export function withinBudget(
  s: BudgetedState,
  picks: readonly ShardRef[],
  route: Route,
): { picks: ShardRef[]; held: boolean } {
  if (!s.budget || route === 'sla_missed') return { picks: [...picks], held: false };
  let ledger = s.budget;
  const fitting: ShardRef[] = [];
  for (const shard of picks) {
    const worst = shardWorstUsd(s, shard, route);
    if (!fits(ledger, worst)) break;
    ledger = reserve(ledger, shard.key, worst);
    fitting.push(shard);
  }
  return { picks: fitting, held: fitting.length < picks.length };
}

/** Reserves each shard's worst case before it is sent. */
export function reserveShards(s: BudgetedState, shards: readonly ShardRef[], route: Route): void {
  if (!s.budget || route === 'sla_missed') return;
  for (const shard of shards) s.budget = reserve(s.budget, shard.key, shardWorstUsd(s, shard, route));
}

/** A shard collected (or finished synchronously) at `actualUsd`: its reservation released, its cost spent. */
export function settleShard(s: BudgetedState, shardKey: string, actualUsd: number): void {
  if (s.budget) s.budget = settle(s.budget, shardKey, actualUsd);
}

export function budgetViewOf(s: BudgetedState): BudgetView | undefined {
  const b = s.budget;
  if (!b) return undefined;
  return { limitUsd: b.limitUsd, spentUsd: b.spentUsd, reservedUsd: b.reservedUsd, peakCommittedUsd: b.peakCommittedUsd };
}
