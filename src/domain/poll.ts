// How long to wait between two polls of in-flight batches: grow while nothing moves, reset on progress.
import { z } from 'zod';

export const PollOptionsSchema = z
  .strictObject({
    /** First interval, and the interval after progress. Default 30 s. */
    initialMs: z.number().int().min(1, { error: 'must be at least 1 ms' }).default(30_000),
    /** Factor applied after each poll without progress. Default 1.5. */
    growth: z.number().min(1, { error: 'must be ≥ 1 (intervals never shrink without progress)' }).default(1.5),
    /** Longest interval. Default 5 min. */
    capMs: z.number().int().min(1, { error: 'must be at least 1 ms' }).default(300_000),
    /**
     * The least time a job waits for the account's poller to answer before it polls its own batches (the silence
     * limit is the longer of this and ten intervals at the cap). Default 30 s; shorter only where a test must see it.
     */
    silenceFloorMs: z.number().int().min(1, { error: 'must be at least 1 ms' }).optional(),
  })
  .refine((o) => o.capMs >= o.initialMs, { error: 'capMs must be ≥ initialMs', path: ['capMs'] });
export type PollOptionsInput = z.input<typeof PollOptionsSchema>;
export type PollOptions = z.output<typeof PollOptionsSchema>;

export const DEFAULT_POLL_OPTIONS: PollOptions = PollOptionsSchema.parse({});

/**
 * The next interval. Pass `previousMs` undefined for the first poll and after any progress (a batch
 * ended, counts moved): the interval starts again at initialMs.
 */
export function nextPollIntervalMs(previousMs: number | undefined, opts: PollOptions = DEFAULT_POLL_OPTIONS): number {
  if (previousMs === undefined) return opts.initialMs;
  return Math.min(opts.capMs, Math.max(opts.initialMs, Math.round(previousMs * opts.growth)));
}
