/**
 * Packed requests (--pack) on their way back: a usable answer (a JSON array of one element per row) is filed under
 * each row's custom_id; an unusable one sends the rows again alone, as their own single-row prompts, so one bad
 * answer never loses its rows. A pack that failed, or was canceled, gives each row that outcome. Shared by
 * collectBatch and runSync; answers stay in the store, never in what the activity returns.
 */
import type { OutcomeLine, PackRecord, ShardLine } from '../domain/job';
import { messageText, parsePackAnswer } from '../domain/pack';

export type Unpacked =
  | { usable: true; outcomes: OutcomeLine[]; record: PackRecord }
  | { usable: false; alone: ShardLine[]; record: PackRecord };

/** A pack's outcome (failed, canceled, sla_missed, not_run) as one outcome per row. */
export function perRow(line: ShardLine, outcome: OutcomeLine): OutcomeLine[] {
  const rows = line.pack ?? [];
  return rows.map((row, index) => ({ ...outcome, custom_id: row.custom_id, line: row.line, pack: { id: line.custom_id, index, of: rows.length } }));
}

/** A succeeded pack: its answers filed per row, or its rows to send alone (attempt + 1, batch ids so far). */
export function unpackSucceeded(line: ShardLine, succeeded: OutcomeLine & { message?: unknown }): Unpacked {
  const rows = line.pack ?? [];
  const m = (succeeded.message ?? {}) as { model?: string; usage?: Record<string, unknown> };
  const answer = parsePackAnswer(messageText(succeeded.message), rows.length);
  const record: PackRecord = {
    custom_id: line.custom_id,
    line: line.line,
    rows: rows.length,
    mode: succeeded.mode ?? 'batch',
    model: m.model ?? line.params.model,
    usage: m.usage ?? {},
    usable: answer.ok,
    ...(!answer.ok && { reason: answer.reason }),
  };
  if (!answer.ok) {
    const alone = rows.map((row): ShardLine => ({
      custom_id: row.custom_id,
      line: row.line,
      params: row.params,
      origin: line.origin,
      attempt: line.attempt + 1,
      batch_ids: succeeded.batch_ids,
    }));
    return { usable: false, alone, record };
  }
  const { message: _message, ...base } = succeeded;
  const outcomes = rows.map((row, index): OutcomeLine => ({
    ...base,
    custom_id: row.custom_id,
    line: row.line,
    answer: answer.answers[index],
    pack: { id: line.custom_id, index, of: rows.length },
  }));
  return { usable: true, outcomes, record };
}
