/**
 * The summary's packing section (--pack): rows against prompts, unusable answers, cost per row, and input tokens per
 * row packed against the same rows unpacked. Both token figures come from count_tokens (free, and the API's own
 * count) on the first rows of the job, so they are measured the same way on the same input.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { log } from '@temporalio/activity';
import type { PackingSummary } from '../contracts/activities';
import type { PackRecord, ShardLine } from '../domain/job';
import { mapLimit } from '../domain/map-limit';

/** Rows whose prompts are counted both ways (whole packs, so a little more). */
export const MEASURED_ROWS = 100;
const COUNT_CONCURRENCY = 8;

export function packingSummary(rows: number, prompts: number, records: readonly PackRecord[], costUsd: number, measured?: PackingSummary['inputTokensPerRow']): PackingSummary {
  const unusable = records.filter((r) => !r.usable);
  return {
    rows,
    prompts,
    unusableAnswers: unusable.length,
    rowsRetriedAlone: unusable.reduce((n, r) => n + r.rows, 0),
    ...(measured && { inputTokensPerRow: measured }),
    costPerRowUsd: rows > 0 ? Math.round((costUsd / rows) * 1e8) / 1e8 : 0,
  };
}

/** count_tokens on the packs given and on each of their rows alone; undefined (and a warning) if counting fails. */
export async function measureTokensPerRow(anthropic: Anthropic, packs: readonly ShardLine[]): Promise<PackingSummary['inputTokensPerRow']> {
  const count = async (params: ShardLine['params']) => {
    const { max_tokens: _max, temperature: _t, metadata: _m, stop_sequences: _s, ...body } = params as Record<string, unknown>;
    const counted = await anthropic.messages.countTokens(body as unknown as Anthropic.MessageCountTokensParams);
    return counted.input_tokens;
  };
  if (packs.length === 0) return undefined;
  try {
    const packed = await mapLimit(packs, COUNT_CONCURRENCY, (p) => count(p.params));
    const rows = packs.flatMap((p) => p.pack ?? []);
    const alone = await mapLimit(rows, COUNT_CONCURRENCY, (r) => count(r.params));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const perRow = (n: number) => Math.round((n / rows.length) * 10) / 10;
    return { packed: perRow(sum(packed)), unpacked: perRow(sum(alone)), measuredRows: rows.length };
  } catch (err) {
    log.warn('count_tokens failed: the summary has no tokens-per-row comparison', { error: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}
