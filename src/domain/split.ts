// Cutting a job into sub-batches: at most maxRequests requests and maxBytes bytes each.
import { z } from 'zod';
import { parseConfig } from './errors';
import { describeValue, formatInteger } from './format';
import { DEFAULT_MAX_BATCH_BYTES, DEFAULT_REQUESTS_PER_BATCH, MAX_REQUESTS_PER_BATCH } from './limits';

const BATCH_SIZE = `batch size must be an integer from 1 to ${formatInteger(MAX_REQUESTS_PER_BATCH)}`;
const MAX_BYTES = `sub-batch byte limit must be an integer from 1 to ${formatInteger(DEFAULT_MAX_BATCH_BYTES)}`;
const got = (expectation: string) => (issue: { input?: unknown }) =>
  `${expectation} (got ${describeValue(issue.input)})`;

/** Options for splitting; each defaults when absent. */
export const SplitOptionsSchema = z.strictObject({
  /** Requests per sub-batch. Default 100; the API allows 1–100,000. */
  maxRequests: z
    .number({ error: got(BATCH_SIZE) })
    .int({ error: got(BATCH_SIZE) })
    .min(1, { error: got(BATCH_SIZE) })
    .max(MAX_REQUESTS_PER_BATCH, { error: got(BATCH_SIZE) })
    .default(DEFAULT_REQUESTS_PER_BATCH),
  /** Bytes of the items of one sub-batch (request sizes as LineResult.bytes). Default: 256 MB minus the body envelope. */
  maxBytes: z
    .number({ error: got(MAX_BYTES) })
    .int({ error: got(MAX_BYTES) })
    .min(1, { error: got(MAX_BYTES) })
    .max(DEFAULT_MAX_BATCH_BYTES, { error: got(MAX_BYTES) })
    .default(DEFAULT_MAX_BATCH_BYTES),
});
export type SplitOptionsInput = z.input<typeof SplitOptionsSchema>;
export type SplitOptions = z.output<typeof SplitOptionsSchema>;

/** The open sub-batch: plain JSON, so a workflow can carry it through continue-as-new. */
export interface CutterState {
  count: number;
  bytes: number;
}

export const EMPTY_CUTTER_STATE: CutterState = { count: 0, bytes: 0 };

/**
 * Adds one request of `bytes` to the open sub-batch. `cutBefore` is true when the open sub-batch must
 * be closed first (it is full, or this request would push it past maxBytes); the request then opens
 * the next one. Throws a RangeError for a request that fits no sub-batch at all: callers reject those
 * earlier (validateInputLine with maxRequestBytes ≤ maxBytes).
 */
export function cutterStep(
  state: CutterState,
  bytes: number,
  opts: SplitOptions,
): { state: CutterState; cutBefore: boolean } {
  if (!Number.isSafeInteger(bytes) || bytes < 0)
    throw new RangeError(`request size must be an integer ≥ 0 (got ${bytes})`);
  if (bytes > opts.maxBytes) {
    throw new RangeError(
      `a request of ${formatInteger(bytes)} bytes fits no sub-batch (limit ${formatInteger(opts.maxBytes)} bytes)`,
    );
  }
  const cutBefore = state.count > 0 && (state.count >= opts.maxRequests || state.bytes + bytes > opts.maxBytes);
  const next = cutBefore ? { count: 1, bytes } : { count: state.count + 1, bytes: state.bytes + bytes };
  return { state: next, cutBefore };
}

export interface BatchCutter {
  /** Adds a request; `cutBefore` says whether to close the current sub-batch before it. */
  add(bytes: number): { cutBefore: boolean };
  /** The open sub-batch so far. */
  readonly current: CutterState;
}

/** A stateful wrapper over cutterStep for a streaming planner inside one activity. Throws ConfigError for bad options. */
export function createBatchCutter(options: SplitOptionsInput = {}): BatchCutter {
  const opts = parseConfig(SplitOptionsSchema, options, 'split');
  let state = EMPTY_CUTTER_STATE;
  return {
    add(bytes) {
      const step = cutterStep(state, bytes, opts);
      state = step.state;
      return { cutBefore: step.cutBefore };
    },
    get current() {
      return state;
    },
  };
}

/** One planned sub-batch: requests [start, start + count) of the job. */
export interface SubBatchPlan {
  index: number;
  start: number;
  count: number;
  bytes: number;
}

/** Plans all sub-batches of a job from its request sizes, in input order. */
export function planSubBatches(sizes: readonly number[], options: SplitOptionsInput = {}): SubBatchPlan[] {
  const opts = parseConfig(SplitOptionsSchema, options, 'split');
  const plans: SubBatchPlan[] = [];
  let state = EMPTY_CUTTER_STATE;
  let open: SubBatchPlan | undefined;
  sizes.forEach((bytes, i) => {
    const step = cutterStep(state, bytes, opts);
    state = step.state;
    if (open === undefined || step.cutBefore) {
      open = { index: plans.length, start: i, count: 0, bytes: 0 };
      plans.push(open);
    }
    open.count += 1;
    open.bytes += bytes;
  });
  return plans;
}
