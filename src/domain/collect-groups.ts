/**
 * How a round's ended batches are collected together: cut into groups of at most COLLECT_GROUP_MAX, as even as
 * possible and in the order they came (one collectBatches activity each), and what each group's activity is called
 * in the Web UI. Pure, so workflows use it.
 */

/** Batches one collectBatches activity takes at most: bounds its length and what a retry of it does again. */
export const COLLECT_GROUP_MAX = 25;

/**
 * Requests one collectBatches activity takes at most: its downloads share one attempt's time and a retry's work, so a
 * round of large batches is collected in smaller groups (a batch larger than this alone), as before the groups.
 */
export const COLLECT_GROUP_MAX_REQUESTS = 2_500;

/**
 * Groups in the items' order: first runs whose requests stay within maxRequests (an item larger than that on its
 * own), then each run cut into ceil(n / max) groups whose sizes differ by at most one.
 */
export function collectGroups<T>(
  items: readonly T[],
  max = COLLECT_GROUP_MAX,
  requestsOf: (item: T) => number = () => 0,
  maxRequests = COLLECT_GROUP_MAX_REQUESTS,
): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let requests = 0;
  for (const item of items) {
    const n = requestsOf(item);
    if (run.length > 0 && requests + n > maxRequests) {
      runs.push(run);
      run = [];
      requests = 0;
    }
    run.push(item);
    requests += n;
  }
  if (run.length > 0) runs.push(run);
  return runs.flatMap((r) => evenGroups(r, max));
}

function evenGroups<T>(items: readonly T[], max: number): T[][] {
  const count = Math.ceil(items.length / Math.max(1, max));
  const base = Math.floor(items.length / count);
  const larger = items.length % count;
  const groups: T[][] = [];
  let at = 0;
  for (let g = 0; g < count; g++) {
    const size = base + (g < larger ? 1 : 0);
    groups.push(items.slice(at, at + size));
    at += size;
  }
  return groups;
}

/** Sub-batches a summary names before it says how many more. */
const NAMED = 4;

/** The activity's summary: how many results of which sub-batches, e.g. `collect 300 results of 3 batches: s0, s1, s2`. */
export function collectGroupSummary(batches: readonly { shardKey: string; requests: number }[]): string {
  const requests = batches.reduce((n, b) => n + b.requests, 0);
  const keys = batches.slice(0, NAMED).map((b) => b.shardKey);
  const more = batches.length > NAMED ? ` and ${batches.length - NAMED} more` : '';
  const noun = batches.length === 1 ? 'batch' : 'batches';
  return `collect ${requests} results of ${batches.length} ${noun}: ${keys.join(', ')}${more}`;
}
