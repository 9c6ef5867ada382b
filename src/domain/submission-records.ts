// What the store keeps about submissions and the batches they created (store contracts, below activities and audits).

/** The store's record of one submission: jobKeys.submission(jobId, shardKey). */
export interface SubmissionRecord {
  shardKey: string;
  requests: number;
  intentAtMs: number;
  /** When the last create call started; with no batchId, its answer is unknown (absent in records of older Sluice). */
  callAtMs?: number;
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
