// Durations as people write them ("30h", "1h30m", "500ms") ↔ milliseconds.
import { z } from 'zod';
import { ConfigError } from './errors';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
const UNITS_LARGEST_FIRST: readonly Unit[] = ['d', 'h', 'm', 's', 'ms'];
const HINT = 'use a number with a unit (ms, s, m, h, d), e.g. 500ms, 45s, 90m, 30h, 2d or 1h30m';
// "ms" before "m", so "500ms" is not read as 500 minutes followed by "s".
const PART = /(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)\s*/y;

/** Milliseconds of `text`, or the reason it is not a duration. */
export function parseDurationResult(text: string): { ok: true; ms: number } | { ok: false; reason: string } {
  const input = text.trim();
  const bad = (why: string) => ({
    ok: false as const,
    reason: `${JSON.stringify(text)} is not a duration: ${why}; ${HINT}`,
  });
  if (input === '') return bad('it is empty');
  if (/^\d+(\.\d+)?$/.test(input)) return bad('it has no unit');
  let total = 0;
  let previous = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < input.length) {
    const at = PART.lastIndex;
    const match = PART.exec(input);
    if (match === null) return bad(unreadable(input.slice(at)));
    const unit = match[2] as Unit;
    const rank = UNITS_LARGEST_FIRST.indexOf(unit);
    if (rank <= previous) return bad(`units must go from largest to smallest, each once`);
    previous = rank;
    total += Number(match[1]) * UNIT_MS[unit];
  }
  return { ok: true, ms: Math.round(total) };
}

function unreadable(rest: string): string {
  const number = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)/.exec(rest);
  if (number?.[2]) return `unknown unit ${JSON.stringify(number[2])}`;
  if (number) return `${JSON.stringify(number[1])} has no unit`;
  return `cannot read ${JSON.stringify(rest)}`;
}

/** "1h30m" → 5,400,000. Throws a ConfigError naming `field` and the input for anything else. */
export function parseDuration(text: string, field = 'duration'): number {
  const result = parseDurationResult(text);
  if (!result.ok) throw new ConfigError(field, result.reason);
  return result.ms;
}

/**
 * 14,400,000 → "4h"; 5,400,000 → "1h 30m"; 850 → "850ms". Hours are the largest unit, because SLAs
 * and windows are spoken of in hours ("30h", not "1d 6h"). parseDuration reads it back.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const rounded = Math.round(ms);
  if (rounded < 0) return `-${formatDuration(-rounded)}`;
  if (rounded < 1_000) return `${rounded}ms`;
  let rest = rounded;
  const parts: string[] = [];
  for (const unit of UNITS_LARGEST_FIRST.slice(1)) {
    const count = Math.floor(rest / UNIT_MS[unit]);
    rest -= count * UNIT_MS[unit];
    if (count > 0) parts.push(`${count}${unit}`);
  }
  return parts.join(' ');
}

/** A duration option: a string such as "30h", or a number of milliseconds. Outputs milliseconds. */
export const DurationSchema = z
  .union([z.number().int().nonnegative(), z.string()], {
    error: 'must be a duration such as "30h" or a number of milliseconds ≥ 0',
  })
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const result = parseDurationResult(value);
    if (result.ok) return result.ms;
    ctx.issues.push({ code: 'custom', message: result.reason, input: value });
    return z.NEVER;
  });
