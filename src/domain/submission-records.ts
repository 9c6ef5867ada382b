// What the store keeps about submissions and the batches they created (store contracts, below activities and audits).

/** The store's record of one submission: jobKeys.submission(jobId, shardKey). */
export interface SubmissionRecord {
  shardKey: string;
  requests: number;
  intentAtMs: number;
  /** When the last create call started; with no batchId, its answer is unknown (absent in records of older Sluice). */
  callAtMs?: number;
  /** How many create calls were claimed (jobKeys.submissionCall) up to the last one (absent in records of older Sluice). */
  calls?: number;
  /** Unclaimed batches reconciliation saw, with when it first saw each (this worker fleet's clock). */
  candidatesSeenAtMs?: Record<string, number>;
  /** The last call was refused by the API: nothing of it is pending. */
  refused?: boolean;
  batchId?: string;
  createdAtMs?: number;
  reconciled?: boolean;
}

/** What the account-wide batch index (jobKeys.batch) says about a batch Sluice created: the claim. */
export interface BatchIndexEntry {
  jobId: string;
  shardKey: string;
  requests: number;
  createdAtMs: number;
  /** 'content': written by a reconciling submission that read the batch's wire ids, for their true owner. */
  provenBy?: 'record' | 'content';
}

/** What the n-th create call of a submission wrote, exclusively, before it called (jobKeys.submissionCall). */
export interface SubmissionCallClaim {
  callAtMs: number;
  attempt: number;
}

/** The calls a record accounts for: older records (no count) made at most one that is still of interest. */
export function callsOf(record: SubmissionRecord | undefined): number {
  if (!record) return 0;
  return record.calls ?? (record.callAtMs !== undefined || record.refused ? 1 : 0);
}
