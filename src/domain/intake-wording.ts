/**
 * Why an intake's next cut waits, in words a person acts on: "bulk: 3 waiting; cut at 100 requests or at 02:13 UTC
 * (the latest safe submission is 02:14 UTC); `sluice intake flush support` sends them now". Pure, for the CLI.
 */
import type { TierWait } from '../contracts/messages';
import { formatDuration } from './duration';

/** "02:14 UTC" today (by UTC), else "2026-12-02 02:14 UTC". */
export function utcClock(atMs: number, nowMs: number): string {
  const at = new Date(atMs).toISOString();
  const sameDay = at.slice(0, 10) === new Date(nowMs).toISOString().slice(0, 10);
  return `${sameDay ? '' : `${at.slice(0, 10)} `}${at.slice(11, 16)} UTC`;
}

export function describeTierWait(w: TierWait, o: { batchSize: number; nowMs: number; maxCutRequests?: number; cutGatherMs?: number }): string {
  if (w.tier === 'urgent') return `urgent: ${w.waiting} waiting; sent at once, as soon as a sub-batch has room`;
  // Cutting many sub-batches at once (intake-cut-many), a tier holding a sub-batch is cut once it has gathered.
  const gathering = o.maxCutRequests !== undefined && w.waiting >= o.batchSize;
  const when =
    w.cutAtMs <= o.nowMs
      ? (gathering && o.nowMs < w.latestSafeMs ? 'now' : 'now (its latest safe submission has come)')
      : `at ${utcClock(w.cutAtMs, o.nowMs)}, in ${formatDuration(w.cutAtMs - o.nowMs)} (the latest safe submission is ${utcClock(w.latestSafeMs, o.nowMs)})`;
  if (o.maxCutRequests !== undefined) {
    const gather = w.waiting >= o.batchSize ? `once gathered (${formatDuration(o.cutGatherMs ?? 0)} after its oldest arrived), ` : '';
    return `${w.tier}: ${w.waiting} waiting; cut at ${Math.max(o.maxCutRequests, o.batchSize)} requests (one job of sub-batches of ${o.batchSize}) or ${gather}${when}`;
  }
  return `${w.tier}: ${w.waiting} waiting; cut at ${o.batchSize} requests or ${when}`;
}

/** Every line of the explanation; `jobsInFlight` at `maxJobsInFlight` means cuts wait for room first. */
export function describeWaits(st: {
  name: string;
  waits?: TierWait[];
  batchSize?: number;
  jobsInFlight: number;
  maxJobsInFlight?: number;
  maxCutRequests?: number;
  cutGatherMs?: number;
}, nowMs: number): string[] {
  if (!st.waits || st.batchSize === undefined) return [];
  const cut = st.maxCutRequests !== undefined ? { maxCutRequests: st.maxCutRequests, cutGatherMs: st.cutGatherMs ?? 0 } : {};
  const lines = st.waits.filter((w) => w.waiting > 0).map((w) => describeTierWait(w, { batchSize: st.batchSize!, nowMs, ...cut }));
  if (lines.length === 0) return ['nothing waits'];
  if (st.maxJobsInFlight !== undefined && st.jobsInFlight >= st.maxJobsInFlight) {
    const what = st.maxCutRequests !== undefined ? 'jobs' : 'sub-batches';
    lines.push(`all ${st.maxJobsInFlight} ${what} allowed in flight are running: the next cut waits for one to end`);
  }
  lines.push(`\`sluice intake flush ${st.name}\` sends everything waiting now`);
  return lines;
}
