/**
 * Faults aimed at an exact moment rather than drawn by chance: the n-th call of an endpoint, or the create whose
 * body holds a custom_id matching a pattern. Scenario tests use them to lose a create's answer, slow it past the
 * client's timeout, or hide a new batch from the list, at exactly the call they are about.
 */
import type { Endpoint, ErrorType, TargetedFault } from './config';

export interface TargetedDecision {
  resetBefore: boolean;
  resetAfter: boolean;
  delayBeforeMs: number;
  delayAfterMs: number;
  error: { type: ErrorType } | null;
}

export class TargetedFaults {
  private counts = new Map<Endpoint, number>();
  private readonly rules: { rule: TargetedFault; regex?: RegExp }[];

  constructor(rules: readonly TargetedFault[]) {
    this.rules = rules.map((rule) => ({ rule, ...(rule.customId !== undefined && { regex: new RegExp(rule.customId) }) }));
  }

  reset(): void {
    this.counts.clear();
  }

  /** Counts this call and returns what the rules aimed at it say (all matching rules apply). */
  decide(endpoint: Endpoint, body: Buffer): TargetedDecision | null {
    const n = (this.counts.get(endpoint) ?? 0) + 1;
    this.counts.set(endpoint, n);
    let decision: TargetedDecision | null = null;
    let ids: string[] | undefined;
    for (const { rule, regex } of this.rules) {
      if (rule.endpoint !== endpoint) continue;
      if (rule.calls !== undefined && !rule.calls.includes(n)) continue;
      if (regex) {
        ids ??= customIdsOf(body);
        if (!ids.some((id) => regex.test(id))) continue;
      }
      decision ??= { resetBefore: false, resetAfter: false, delayBeforeMs: 0, delayAfterMs: 0, error: null };
      if (rule.action === 'resetBefore') decision.resetBefore = true;
      if (rule.action === 'resetAfter') decision.resetAfter = true;
      if (rule.action === 'delayBefore') decision.delayBeforeMs += rule.delayMs;
      if (rule.action === 'delayAfter') decision.delayAfterMs += rule.delayMs;
      if (rule.action === 'error') decision.error = { type: rule.errorType };
    }
    return decision;
  }
}

function customIdsOf(body: Buffer): string[] {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { requests?: { custom_id?: unknown }[] };
    return (parsed.requests ?? []).map((r) => (typeof r.custom_id === 'string' ? r.custom_id : ''));
  } catch {
    return [];
  }
}
