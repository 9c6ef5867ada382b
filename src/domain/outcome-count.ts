/**
 * "Requests done", counted one way everywhere (the workflow's stop rule, the progress query, the Web UI details,
 * the progress bar, `sluice status`): a request is done once it has its final outcome, and sla_missed is one.
 */
export interface OutcomeCounts {
  succeeded: number;
  failed: number;
  canceled: number;
  slaMissed: number;
  /** Answers that failed the output check on their last attempt (absent in states from before output checks). */
  invalidOutput?: number;
}

export function requestsDone(c: OutcomeCounts): number {
  return c.succeeded + c.failed + c.canceled + c.slaMissed + (c.invalidOutput ?? 0);
}
