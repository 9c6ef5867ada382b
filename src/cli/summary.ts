/** The summary a user reads after a job: counts, cost, savings, where the files are. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { JobSummary, PackingSummary } from '../contracts/activities';
import { canaryText, type CanaryReport } from '../domain/canary';
import { formatDuration } from '../domain/duration';
import { SluiceError } from '../domain/errors';

/** `sluice run` of a job its canary stopped: the output is written, and the command exits 1. */
export class CanaryStoppedError extends SluiceError {
  override name = 'CanaryStoppedError';
  constructor(readonly canary: CanaryReport) {
    super(`Stopped by the canary: ${canary.failed} of its ${canary.requests} requests failed (at most ${canary.allowed} may); the rest of the job was not sent. See failures.jsonl${' '}and invalid-output.jsonl.`);
  }
}

export function printSummary(summary: JobSummary, outDir?: string, uiLink?: string) {
  const o = summary.outcomes;
  const lines = [
    ``,
    `Job ${summary.jobId}`,
    `  requests   ${summary.requests}: ${o.succeeded} succeeded, ${o.failed} failed, ${o.invalid_output ? `${o.invalid_output} invalid_output, ` : ''}${o.canceled} canceled, ${o.not_run} not run`,
    ...(summary.canary ? [`  canary     ${canaryText(summary.canary)}`] : []),
    `  attempts   ${Object.entries(summary.attempts).map(([n, c]) => `${c} × ${n}`).join(', ') || '—'}`,
    `  tokens     ${summary.tokens.input} in, ${summary.tokens.output} out`,
    ...cacheLines(summary),
    costLine(summary),
    `  batches    ${summary.batchesCreated} created; wall time ${formatDuration(summary.wallTimeMs)}`,
  ];
  if (summary.budget) {
    const b = summary.budget;
    lines.push(`  budget     USD ${b.limitUsd.toFixed(4)}: ${b.spentUsd.toFixed(4)} spent, ${b.reservedUsd.toFixed(4)} reserved at the end, at most ${b.peakCommittedUsd.toFixed(4)} committed at once`);
  }
  if (summary.packing) lines.push(...packingLines(summary.packing));
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

/** --pack: rows against prompts, what went alone, and tokens per row packed against the same rows unpacked. */
export function packingLines(p: PackingSummary): string[] {
  const alone = p.unusableAnswers ? `; ${p.unusableAnswers} unusable answers, ${p.rowsRetriedAlone} rows sent again alone` : '';
  const lines = [`  packed     ${p.rows} rows in ${p.prompts} prompts${alone}`];
  const t = p.inputTokensPerRow;
  if (t) lines.push(`  per row    ${t.packed} input tokens packed, ${t.unpacked} unpacked (count_tokens, first ${t.measuredRows} rows); $${p.costPerRowUsd.toFixed(6)} a row`);
  else lines.push(`  per row    $${p.costPerRowUsd.toFixed(6)} a row (count_tokens was not available: no unpacked comparison)`);
  return lines;
}

/** Cache writes and reads, and what caching saved; nothing for a job that cached nothing. */
export function cacheLines(summary: Pick<JobSummary, 'tokens' | 'cacheSavedUsd'>): string[] {
  const { cacheCreation, cacheRead } = summary.tokens;
  if (cacheCreation === 0 && cacheRead === 0) return [];
  const saved = summary.cacheSavedUsd ?? 0;
  const verdict = saved >= 0 ? `saved $${saved.toFixed(4)}` : `cost $${(-saved).toFixed(4)} more than no cache (writes not read back)`;
  return [`  cache      ${cacheCreation} written, ${cacheRead} read; caching ${verdict}`];
}
