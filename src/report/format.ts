// Number formats of the job report. USD keeps the 6 decimals of summary.json, so the page shows its exact figures.
import { formatInteger } from '../domain/format';

export function usd(n: number): string {
  return `$${n.toFixed(6)}`;
}

export function count(n: number): string {
  return formatInteger(n);
}

/** 850 → "850 ms", 2_140 → "2.1 s", 210_000 → "3.5 min", 4_320_000 → "1.2 h". */
export function span(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
