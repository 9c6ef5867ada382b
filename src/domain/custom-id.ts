// custom_ids: the user's key for a request, or one derived from the request's place in the input.
//
// Collision rule: derived ids ("req-0000042") share one namespace with user-given ids. The planner
// checks every id, given or derived, with one DuplicateTracker; a derived id equal to a user's id is
// reported like any duplicate, naming both lines, and the job is refused before anything is sent.
import { MAX_CUSTOM_ID_LENGTH } from './limits';
import type { InputIssue } from './input-issue';

/** What the API accepts as a custom_id. Has no `g` flag, so `.test` keeps no state. */
export const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

export const DERIVED_ID_PREFIX = 'req-';

/** Digits of a derived id unless the job needs more: 7 digits hold 10 million requests. */
export const DERIVED_ID_MIN_DIGITS = 7;

/** Digits needed so every derived id of a job with `requestCount` requests has the same width. */
export function customIdWidth(requestCount: number): number {
  const largestIndex = Math.max(0, requestCount - 1);
  return Math.max(DERIVED_ID_MIN_DIGITS, String(largestIndex).length);
}

/**
 * The id of a request that has none: from its 0-based index among the non-blank lines of the whole
 * input (never a per-batch index), zero-padded so ids sort in input order.
 * Pass `totalWidth` = customIdWidth(count) when the job may exceed 10 million requests.
 */
export function deriveCustomId(globalIndex: number, totalWidth: number = DERIVED_ID_MIN_DIGITS): string {
  if (!Number.isSafeInteger(globalIndex) || globalIndex < 0) {
    throw new RangeError(`deriveCustomId: index must be an integer ≥ 0 (got ${globalIndex})`);
  }
  const id = DERIVED_ID_PREFIX + String(globalIndex).padStart(totalWidth, '0');
  if (id.length > MAX_CUSTOM_ID_LENGTH) throw new RangeError(`deriveCustomId: width ${totalWidth} is too wide`);
  return id;
}

/**
 * Finds duplicate custom_ids while a planner streams through the input. Holds one Map entry per
 * request, so it lives inside one activity run and never crosses a Temporal boundary.
 */
export class DuplicateTracker {
  /** The first line of each id, times two, plus one when its id was derived: a number, not an object per request. */
  private readonly firstSeen = new Map<string, number>();

  /** Records `customId` from `line`; returns an issue when an earlier line already used it. */
  check(customId: string, line: number, derived = false): InputIssue | undefined {
    const seen = this.firstSeen.get(customId);
    if (seen === undefined) {
      this.firstSeen.set(customId, line * 2 + (derived ? 1 : 0));
      return undefined;
    }
    const earlier = { line: Math.floor(seen / 2), derived: seen % 2 === 1 };
    const quoted = JSON.stringify(customId);
    let reason: string;
    if (derived) {
      reason = `this line has no custom_id and its derived id ${quoted} is already the custom_id of line ${earlier.line}; give one of them another custom_id`;
    } else if (earlier.derived) {
      reason = `${quoted} is already the derived id of line ${earlier.line} (which has no custom_id); choose another custom_id`;
    } else {
      reason = `duplicate custom_id ${quoted}, first used on line ${earlier.line}`;
    }
    return { line, field: 'custom_id', reason };
  }

  get size(): number {
    return this.firstSeen.size;
  }
}
