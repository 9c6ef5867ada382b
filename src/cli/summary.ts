/** The summary a user reads after a job: counts, cost, savings, where the files are. */
import type { JobSummary } from '../contracts/activities';
import { formatDuration } from '../domain/duration';

export function printSummary(summary: JobSummary, outDir?: string, uiLink?: string) {
  const o = summary.outcomes;
  const lines = [
    ``,
    `Job ${summary.jobId}`,
    `  requests   ${summary.requests}: ${o.succeeded} succeeded, ${o.failed} failed, ${o.canceled} canceled, ${o.not_run} not run`,
    `  attempts   ${Object.entries(summary.attempts).map(([n, c]) => `${c} × ${n}`).join(', ') || '—'}`,
    `  tokens     ${summary.tokens.input} in, ${summary.tokens.output} out`,
    `  cost       $${summary.costUsd.toFixed(4)} (the synchronous API: $${summary.syncEquivalentUsd.toFixed(4)}; saved $${summary.savedUsd.toFixed(4)})`,
    `  batches    ${summary.batchesCreated} created; wall time ${formatDuration(summary.wallTimeMs)}`,
  ];
  if (summary.unpricedModels.length) lines.push(`  no price   for ${summary.unpricedModels.join(', ')} (cost not counted)`);
  if (outDir) lines.push(`  output     ${outDir}/results.jsonl, failures.jsonl, summary.json`);
  if (uiLink) lines.push(`  Web UI     ${uiLink}`);
  console.log(lines.join('\n'));
}
