/** What the intake benches read from a Temporal history: its types and an event's time in ms. */
import { temporal } from '@temporalio/proto';

export type History = temporal.api.history.v1.IHistory;
type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;
export const EventType = temporal.api.enums.v1.EventType;

/** A history timestamp in ms since the epoch (0 when absent). */
export function ms(ts: Timestamp): number {
  if (!ts) return 0;
  const s = ts.seconds ?? 0;
  return (typeof s === 'number' ? s : s.toNumber()) * 1000 + (ts.nanos ?? 0) / 1e6;
}
