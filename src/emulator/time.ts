/**
 * Nominal time. The emulator simulates the service in NOMINAL milliseconds (the durations the real API would
 * take) and compresses them with `timeScale`: real ms = nominal ms × timeScale.
 *
 * The clock starts at the real wall-clock time when the emulator starts and then advances at 1/timeScale
 * speed, so with timeScale 0.001 one real second shows as 1,000 nominal seconds in `created_at`, `ended_at`
 * and friends. Timestamps therefore drift into the future relative to the real clock; they are always
 * consistent with one another, which is what clients can rely on.
 */

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Where a clock starts: a real instant and the nominal instant it maps to. */
export interface ClockOrigin {
  realMs: number;
  nominalMs: number;
}

export class NominalClock {
  constructor(
    readonly timeScale: number,
    private origin: ClockOrigin,
    private readonly realNow: () => number = Date.now,
  ) {}

  /** Current nominal time in ms since the epoch (fractional). */
  nowMs(): number {
    return this.origin.nominalMs + (this.realNow() - this.origin.realMs) / this.timeScale;
  }

  /** Real ms until the given nominal instant (0 if past). */
  realDelayUntilMs(nominalMs: number): number {
    return Math.max(0, (nominalMs - this.nowMs()) * this.timeScale);
  }

  /** Jumps forward by `nominalMs` (for tests: skip to "half-way" or "after the cancel delay" exactly). */
  advance(nominalMs: number): void {
    this.origin = { ...this.origin, nominalMs: this.origin.nominalMs + nominalMs };
  }

  /** A snapshot that restarts this clock where it is now (used when saving state). */
  snapshot(): ClockOrigin {
    return { realMs: this.realNow(), nominalMs: this.nowMs() };
  }
}

/** RFC 3339 with microseconds and a `Z`, e.g. `2026-09-01T10:00:00.000000Z`. */
export function formatTimestamp(nominalMs: number): string {
  const wholeMs = Math.floor(nominalMs);
  const micros = Math.floor((nominalMs - wholeMs) * 1_000);
  const iso = new Date(wholeMs).toISOString(); // 2026-09-01T10:00:00.123Z
  return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}
