/** The summary a user reads after a job: counts, cost, savings, where the files are. */
import { existsSync } from 'node:fs';
import path from 'node:path';
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
    ...cacheLines(summary),
    costLine(summary),
    `  batches    ${summary.batchesCreated} created; wall time ${formatDuration(summary.wallTimeMs)}`,
  ];
  if (summary.unpricedModels.length) {
    lines.push(`  no price   for ${summary.unpricedModels.join(', ')} (cost not counted; SLUICE_PRICES can add a price)`);
  }
  if (outDir) {
    const report = existsSync(path.join(outDir, 'report.html')) ? ', report.html' : '';
    lines.push(`  output     ${outDir}/results.jsonl, failures.jsonl, summary.json${report}`);
  }
  if (uiLink) lines.push(`  Web UI     ${uiLink}`);
  console.log(lines.join('\n'));
}

/** The cost line: never "$0" for work that had no price, and "at least" when only part of it was priced. */
export function costLine(summary: Pick<JobSummary, 'costUsd' | 'syncEquivalentUsd' | 'savedUsd' | 'unpricedModels'>): string {
  const unpriced = summary.unpricedModels.length > 0;
  if (unpriced && summary.costUsd === 0 && summary.syncEquivalentUsd === 0) return `  cost       unpriced`;
  const money = `$${summary.costUsd.toFixed(4)} (the synchronous API: $${summary.syncEquivalentUsd.toFixed(4)}; saved $${summary.savedUsd.toFixed(4)})`;
  return `  cost       ${unpriced ? 'at least ' : ''}${money}`;
}

/** Cache writes and reads, and what caching saved; nothing for a job that cached nothing. */
export function cacheLines(summary: Pick<JobSummary, 'tokens' | 'cacheSavedUsd'>): string[] {
  const { cacheCreation, cacheRead } = summary.tokens;
  if (cacheCreation === 0 && cacheRead === 0) return [];
  const saved = summary.cacheSavedUsd ?? 0;
  const verdict = saved >= 0 ? `saved $${saved.toFixed(4)}` : `cost $${(-saved).toFixed(4)} more than no cache (writes not read back)`;
  return [`  cache      ${cacheCreation} written, ${cacheRead} read; caching ${verdict}`];
}
