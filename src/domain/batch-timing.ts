// The account-wide record of an ended batch's times and counts (timings/<batch id>.json): reports and latency models read it.

/** What the API said about a batch when the poll first saw it ended: times and counts, nothing of its content. */
export interface BatchTiming {
  batchId: string;
  createdAtMs: number;
  endedAtMs: number;
  /** Set when a cancel was requested before the batch ended. */
  cancelInitiatedAtMs?: number;
  requests: number;
  counts: { succeeded: number; errored: number; canceled: number; expired: number };
  /**
   * When a worker first saw it ended, by the worker's clock (the API's clock may differ: the emulator compresses
   * time); the record is written once, by that first sighting (records of older Sluice: the last sighting). Latency
   * models judge staleness by it, the report's timeline ends the batch's bar there. Absent in records written before
   * it existed.
   */
  seenAtMs?: number;
}
