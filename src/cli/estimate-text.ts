/** How `sluice estimate` and `sluice run --dry-run` print an estimate for a person (`--json` prints the object). */
import type { JobEstimate } from '../domain/estimate';
import { formatDuration } from '../domain/duration';

/** What the commands print with --json: the estimate, plus the SLA's latest batch submission and the budget check. */
export interface EstimateReport extends JobEstimate {
  file: string;
  sla?: { deadline: string; latestBatchSubmission: string; windowMs: number; marginMs: number };
  budget?: { limitUsd: number; largestSubBatchWorstUsd: number; coversWorstCase: boolean };
  /** Always false: an estimate sends nothing billable. */
  billableCallsSent: false;
}

const usd = (n: number) => `USD ${n.toFixed(4)}`;
const int = (n: number) => n.toLocaleString('en-US');

export function estimateText(r: EstimateReport, nowMs: number): string {
  const c = r.costUsd;
  const lines = [
    `Estimate for ${r.file} (nothing billable was sent)`,
    `  requests          ${int(r.requests)} in ${int(r.subBatches)} sub-batches of up to ${int(r.batchSize)}`,
    `  input tokens      ${int(r.inputTokens)} (${int(r.countedRequests)} of ${int(r.requests)} requests counted by the token counting endpoint)`,
    `  max output        ${int(r.maxOutputTokens)} tokens (the sum of max_tokens)`,
    `                    batch              synchronous`,
    `  input only        ${usd(c.inputOnly.batch).padEnd(19)}${usd(c.inputOnly.sync)}`,
    ...(c.expected
      ? [`  expected          ${usd(c.expected.batch).padEnd(19)}${usd(c.expected.sync)}   (${int(c.expected.outputTokensPerRequest)} output tokens a request)`]
      : []),
    `  worst case        ${usd(c.worstCase.batch).padEnd(19)}${usd(c.worstCase.sync)}   (input + max_tokens)`,
    `  largest sub-batch ${usd(r.largestSubBatchWorstUsd)} worst case at batch prices`,
  ];
  if (!c.expected) lines.push('  expected          give --output-tokens N (a typical answer\'s length) for an expected cost');
  if (r.cache) {
    const k = r.cache;
    lines.push(
      `  cache_control     ${int(k.requestsMarked)} requests mark it (${int(k.inputTokens)} input tokens): ${usd(k.asPlainInputUsd)} as plain input, ${usd(k.asWritesUsd)} if all written to the cache (the worst case counts this), ${usd(k.asReadsUsd)} if all read from it`,
    );
  }
  if (r.unpricedModels.length) lines.push(`  no price          for ${r.unpricedModels.join(', ')}: not in the cost (SLUICE_PRICES can add a price)`);
  if (r.sla) {
    const left = Date.parse(r.sla.latestBatchSubmission) - nowMs;
    lines.push(
      `  SLA               deadline ${r.sla.deadline}; latest batch submission ${r.sla.latestBatchSubmission} (${left > 0 ? `in ${formatDuration(left)}` : `${formatDuration(-left)} ago: everything would go synchronous`})`,
    );
  }
  if (r.budget) {
    lines.push(`  budget            ${usd(r.budget.limitUsd)}: ${r.budget.coversWorstCase ? 'covers the worst case of the whole job' : 'below the worst case: the job holds when it is used up (sluice budget raises it)'}`);
  }
  const missing = r.requests - r.countedRequests;
  if (missing > 0) {
    lines.push(`  not counted       ${int(missing)} requests, priced with an upper bound of one token per byte:`);
    for (const n of r.notCounted) lines.push(`    line ${n.line} (${n.custom_id}): ${n.reason}`);
    if (missing > r.notCounted.length) lines.push(`    ... and ${int(missing - r.notCounted.length)} more`);
  }
  return lines.join('\n');
}
