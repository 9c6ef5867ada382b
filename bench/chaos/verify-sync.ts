/**
 * The checks of the requests a chaos run sent synchronously. The Messages API has no idempotency key: a call whose
 * answer is lost (a connection reset after the work, a worker killed mid-call) is sent again and paid twice. That is
 * the one thing Sluice cannot prevent, so it is counted, not a violation: the rate README quotes. What must hold is
 * that each succeeded result is the API's answer for that request, and that nothing was sent for none.
 */
import { isDeepStrictEqual } from 'node:util';
import type { NormalizedRequest, OutcomeLine } from '../../src/domain/job';
import type { EmulatorStats } from '../../src/emulator';
import { summariseParams, syntheticMessage } from '../../src/emulator/synthetic';
import type { Check } from './verify';

export function verifySyncResults(results: readonly OutcomeLine[], input: readonly NormalizedRequest[], stats: EmulatorStats) {
  const checks: Check[] = [];
  const sync = results.filter((r) => r.mode === 'sync');
  if (sync.length === 0) return { checks, resent: 0, requests: 0 };
  const params = new Map(input.map((r) => [r.custom_id, r.params]));
  let matched = 0;
  const mismatched: string[] = [];
  let resent = 0;
  const unpaid: string[] = [];
  for (const r of sync) {
    // Synchronous calls are counted by the custom_id header Sluice sends: the user's custom_id.
    const accepted = stats.submissions[r.custom_id]?.sync ?? 0;
    if (r.status === 'succeeded') {
      if (accepted === 0) unpaid.push(r.custom_id);
      resent += Math.max(0, accepted - 1);
      const derived = syntheticMessage(r.custom_id, summariseParams(params.get(r.custom_id) as Record<string, unknown>), 'standard');
      if (isDeepStrictEqual(r.message, derived)) matched++;
      else mismatched.push(r.custom_id);
    } else {
      resent += accepted; // a failed request's accepted calls all lost their answers
    }
  }
  const succeeded = sync.filter((r) => r.status === 'succeeded').length;
  checks.push({
    check: "synchronous results are the API's",
    value: `${matched} of ${succeeded}`,
    ok: mismatched.length === 0 && unpaid.length === 0,
    note: mismatched.length || unpaid.length ? `differ: ${mismatched.slice(0, 5).join(', ')}; never accepted: ${unpaid.slice(0, 5).join(', ')}` : 'equal to the emulator derivation from custom_id and params',
  });
  checks.push({
    check: 'synchronous calls sent again after a lost answer',
    value: `${resent} of ${sync.length} requests (${((100 * resent) / sync.length).toFixed(2)} %)`,
    ok: true,
    note: 'the Messages API has no idempotency key: counted, not preventable',
  });
  return { checks, resent, requests: sync.length };
}
