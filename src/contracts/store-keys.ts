/**
 * Every key Sluice writes in the store, spelled once: jobs, the account-wide batch index and timings, intakes and
 * audits. docs/architecture.md lists what each holds. Keys are a contract with every worker that reads the store,
 * old releases included: change a key only with a migration.
 */

export function originalShardKey(index: number): string {
  return `s${String(index).padStart(6, '0')}`;
}

export function retryShardKey(round: number, index: number): string {
  return `r${String(round).padStart(3, '0')}-${String(index).padStart(6, '0')}`;
}

function originKey(origin: number): string {
  return originalShardKey(origin);
}

/** The files a finished job writes to its output (and `sluice results` copies). */
export type OutputFile = 'results.jsonl' | 'failures.jsonl' | 'invalid-output.jsonl' | 'summary.json' | 'report.html';

export const jobKeys = {
  /** Written first and exclusively by the run that owns the job id: no other run writes under jobs/<id>/. */
  owner: (jobId: string) => `jobs/${jobId}/owner.json`,
  input: (jobId: string) => `jobs/${jobId}/input.jsonl`,
  rejects: (jobId: string) => `jobs/${jobId}/rejects.jsonl`,
  /** Input tokens of each request as the API counted them (one number per line, input order), for a budget's plan. */
  tokenCounts: (jobId: string) => `jobs/${jobId}/token-counts.jsonl`,
  plan: (jobId: string) => `jobs/${jobId}/plan.json`,
  shard: (jobId: string, shardKey: string) => `jobs/${jobId}/shards/${shardKey}.jsonl`,
  /** Only for shards cut by cache group: the requests of input-order segment i (custom_id, line, model), for finalize. */
  orderSegment: (jobId: string, index: number) => `jobs/${jobId}/order/${originalShardKey(index)}.jsonl`,
  submission: (jobId: string, shardKey: string) => `jobs/${jobId}/submissions/${shardKey}.json`,
  submissionsOf: (jobId: string) => `jobs/${jobId}/submissions/`,
  /**
   * Created exclusively before the n-th create call of a submission (1-based): of two attempts of one submission
   * running at once (one timed out on its heartbeat while it reconciled), only the one that created it calls.
   */
  submissionCall: (jobId: string, shardKey: string, n: number) => `jobs/${jobId}/submission-calls/${shardKey}/${String(n).padStart(4, '0')}.json`,
  outcomes: (jobId: string, origin: number, batchId: string) =>
    `jobs/${jobId}/outcomes/${originKey(origin)}/${batchId}.jsonl`,
  outcomesOf: (jobId: string, origin: number) => `jobs/${jobId}/outcomes/${originKey(origin)}/`,
  retries: (jobId: string, batchId: string) => `jobs/${jobId}/retries/${batchId}.jsonl`,
  retriesOf: (jobId: string) => `jobs/${jobId}/retries/`,
  /** One synchronous call's outcome, recorded before the next so a rerun never pays twice. */
  syncDone: (jobId: string, shardKey: string, customId: string) => `jobs/${jobId}/sync/${shardKey}/${customId}.json`,
  syncDoneOf: (jobId: string) => `jobs/${jobId}/sync/`,
  /** The job's JSON Schema for output checks (`--schema`), written by the client before the job starts. */
  outputSchema: (jobId: string) => `jobs/${jobId}/output-schema.json`,
  output: (jobId: string, file: OutputFile) =>
    `jobs/${jobId}/output/${file}`,
  /** Account-wide index of the batches Sluice created, for reconciliation and audits. */
  batch: (batchId: string) => `batches/${batchId}.json`,
  /** Account-wide: when an ended batch was created and ended, and its counts (a BatchTiming), for reports and latency models. */
  timing: (batchId: string) => `timings/${batchId}.json`,
  timings: () => 'timings/',
  /** Account-wide: when Sluice first saw an ended batch (a BatchSeenEnded), on its own clock, for the report's timeline. */
  seenEnded: (batchId: string) => `seen-ended/${batchId}.json`,
  /** When a synchronous sub-batch started and ended (a SyncTiming), for the job report's timeline. */
  syncTiming: (jobId: string, shardKey: string) => `jobs/${jobId}/sync-timings/${shardKey}.json`,
  syncTimingsOf: (jobId: string) => `jobs/${jobId}/sync-timings/`,
  /** Every batch Sluice claimed (the index above), for reconciliation. */
  batches: () => 'batches/',
  /** Packed requests answered in one batch (or sync sub-batch): their usage and whether the answer was usable (PackRecord). */
  packs: (jobId: string, batchId: string) => `jobs/${jobId}/packs/${batchId}.jsonl`,
  packsOf: (jobId: string) => `jobs/${jobId}/packs/`,
  /**
   * finalizeJob's failures.jsonl or invalid-output.jsonl in parts while results.jsonl is written; deleted after.
   * Per attempt: two attempts running at once (a heartbeat timeout) never read or delete each other's parts.
   */
  outputPart: (jobId: string, attempt: number, file: 'failures.jsonl' | 'invalid-output.jsonl', n: number) =>
    `jobs/${jobId}/output-parts/${attempt}/${file.replace('.jsonl', '')}-${String(n).padStart(6, '0')}.jsonl`,
  outputPartsOf: (jobId: string) => `jobs/${jobId}/output-parts/`,
  /** Everything collected for a job, under every original shard. */
  outcomesOfJob: (jobId: string) => `jobs/${jobId}/outcomes/`,
};

/** Intakes: request bodies by enqueue segment, and requests whose sub-batch job failed. */
export const intakeKeys = {
  segment: (intake: string, id: string) => `intakes/${intake}/segments/${id}.jsonl`,
  deadLetter: (intake: string, jobId: string) => `intakes/${intake}/dead-letter/${jobId}.jsonl`,
  deadLetters: (intake: string) => `intakes/${intake}/dead-letter/`,
  /**
   * One request's durable record (first acceptance, then its sub-batch job), for de-duplication over the intake's
   * whole life: named by the intake's name, so a recreated intake of the same name still knows it.
   */
  requestRecord: (intake: string, customId: string) => `intakes/${intake}/ids/${idBucket(customId)}/${customId}.json`,
  /** A chunk of the buffer: ids, tiers and times of accepted requests (one line each), sorted by cut time. */
  bufferChunk: (intake: string, incarnation: string, seq: number) =>
    `intakes/${intake}/buffer/${incarnation}/c${String(seq).padStart(9, '0')}.jsonl`,
  /**
   * A list of buffer chunks the intake is done with, named by when (epoch ms): the retention sweep deletes the
   * chunks, the records of their requests and their bodies' segments once it is older than the intake's retention.
   */
  retired: (intake: string, atMs: number, incarnation: string, seq: number) =>
    `intakes/${intake}/retired/${String(atMs).padStart(15, '0')}-${incarnation}-${String(seq).padStart(9, '0')}.json`,
  retiredLists: (intake: string) => `intakes/${intake}/retired/`,
  /** Requests of one sub-batch job whose owners wait for a completion signal. */
  notify: (intake: string, jobId: string) => `intakes/${intake}/notify/${jobId}.json`,
};

/** Audits: one report per run, and the copied results of batches no job collected. */
export const auditKeys = {
  /** One report per run: what the snapshot, the job and the reconciliation found. */
  report: (schedule: string, stamp: string) => `audits/${schedule}/${stamp}.json`,
  reportsOf: (schedule: string) => `audits/${schedule}/`,
  /** Results of a recorded batch that ended and was never collected, as the API returned them. */
  uncollected: (batchId: string) => `audits/uncollected/${batchId}.jsonl`,
  /** What a snapshot read: files, sizes, where each file's lines start. Written last: its presence means done. */
  snapshot: (jobId: string) => `jobs/${jobId}/snapshot.json`,
};

/** 256 directories for a day of ids, by a small pure hash (FNV-1a) so sequential ids spread too. */
function idBucket(id: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return (h & 0xff).toString(16).padStart(2, '0');
}
