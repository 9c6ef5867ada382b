/**
 * The two I/O steps of a recurring audit: take the night's snapshot of the input, and reconcile the account's
 * batches with Sluice's records afterwards.
 *
 * Reconciliation walks the workspace's batches (newest first, 1,000 per page, back to `lookbackMs`) against the
 * store's batch index (`batches/<id>.json`, the claim submitBatch writes for every batch it creates):
 * - a batch with no claim is an ORPHAN: a create whose submission died before recording it (and was never
 *   adopted), or one made behind Sluice's back. Reported; canceled when `cancelOrphans` and still in progress.
 *   Batches younger than `orphanGraceMs` are left alone: their submission may still record or adopt them.
 * - a claimed batch that ended, whose job filed neither outcomes (`jobs/<job>/outcomes/<origin>/<batch>.jsonl`) nor
 *   retries (`jobs/<job>/retries/<batch>.jsonl`) for it, is UNCOLLECTED (its job was terminated, or lost track of
 *   it). Its results are copied as the API returns them to `audits/uncollected/<batch>.jsonl` while the API still
 *   has them (29 days after creation). They are not merged into the job's output: that job is over, and the copy
 *   is what a person needs to decide what to do.
 */
import Anthropic from '@anthropic-ai/sdk';
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { snapshotInput, type SnapshotResult } from '../client/snapshot-input';
import { auditKeys, RESULTS_RETENTION_MS } from '../domain/audit';
import { ConfigError } from '../domain/errors';
import { jobKeys } from '../domain/job';
import type { BlobStore } from '../store/blob-store';
import { toApiFailure } from './api-failure';
import { holderOf } from './batch-holder';
import type { ActivityDeps } from './deps';
import { streamBatchResults } from './results-stream';
import type { BatchIndexEntry } from './submit';
import type { AuditSnapshot, OrphanBatch, ReconcileInput, ReconcileResult, SnapshotAuditInput, UncollectedBatch } from '../contracts/activities';

// Moved to src/contracts; re-exported so existing imports keep working.
export type { AuditSnapshot, OrphanBatch, ReconcileInput, ReconcileResult, SnapshotAuditInput, UncollectedBatch };

/** Keeps the activity's result (which enters history) small however many batches the account has. */
const MAX_LISTED = 50;

export function auditActivities({ store, anthropic }: ActivityDeps) {
  async function snapshotAuditInput(input: SnapshotAuditInput): Promise<AuditSnapshot> {
    let snap: SnapshotResult;
    try {
      snap = await snapshotInput({
        input: input.input,
        jobId: input.jobId,
        store,
        defaults: input.defaults,
        onProgress: (lines) => heartbeat({ lines }),
      });
    } catch (err) {
      // Nothing to read is the schedule's configuration, not a passing fault: retrying will not help.
      if (err instanceof ConfigError) throw ApplicationFailure.nonRetryable(err.message, 'AuditInputMissing');
      throw err;
    }
    return {
      inputKey: snap.inputKey,
      requestCount: snap.requestCount,
      rejected: snap.rejected,
      rejectsKey: snap.rejectsKey,
      files: snap.files.length,
      bytes: snap.files.reduce((n, f) => n + f.bytes, 0),
      snapshotKey: auditKeys.snapshot(input.jobId),
    };
  }

  async function reconcileAccount(input: ReconcileInput): Promise<ReconcileResult> {
    const nowMs = Date.now();
    const claimed = new Set((await store.list(jobKeys.batches())).map((key) => key.slice(jobKeys.batches().length).replace(/\.json$/, '')));
    const collected = new CollectedIndex(store);
    const orphans: OrphanBatch[] = [];
    const uncollected: UncollectedBatch[] = [];
    let listed = 0;
    let recorded = 0;
    let young = 0;
    let alreadyCopied = 0;

    try {
      for await (const batch of anthropic.messages.batches.list({ limit: 1_000 })) {
        if (++listed % 500 === 0) heartbeat({ listed });
        const createdMs = Date.parse(batch.created_at);
        if (input.lookbackMs > 0 && createdMs < nowMs - input.lookbackMs) break; // newest first: the rest is older
        const c = batch.request_counts;
        const requests = c.processing + c.succeeded + c.errored + c.canceled + c.expired;

        if (!claimed.has(batch.id)) {
          if (input.orphanGraceMs > 0 && createdMs > nowMs - input.orphanGraceMs) {
            young++;
            continue;
          }
          let canceled = false;
          if (input.cancelOrphans && batch.processing_status === 'in_progress') canceled = await cancel(batch.id);
          const heldBy = batch.processing_status === 'ended' ? await holderOf(anthropic, store, batch) : undefined;
          orphans.push({ batchId: batch.id, createdAt: batch.created_at, status: batch.processing_status, requests, canceled, ...(heldBy && { heldBy }) });
          continue;
        }

        recorded++;
        if (!input.downloadUncollected || batch.processing_status !== 'ended') continue;
        const endedMs = batch.ended_at ? Date.parse(batch.ended_at) : createdMs;
        if (input.uncollectedGraceMs > 0 && endedMs > nowMs - input.uncollectedGraceMs) continue;
        if (createdMs < nowMs - RESULTS_RETENTION_MS) continue; // the API no longer has its results
        const owner = await store.readJson<BatchIndexEntry>(jobKeys.batch(batch.id));
        if (!owner || (await collected.has(owner.jobId, batch.id))) continue;
        const key = auditKeys.uncollected(batch.id);
        if (await store.exists(key)) {
          alreadyCopied++;
          continue;
        }
        const lines = await copyResults(batch.id, batch.results_url ?? undefined, key);
        uncollected.push({ batchId: batch.id, jobId: owner.jobId, shardKey: owner.shardKey, key, lines });
      }
    } catch (err) {
      if (err instanceof ApplicationFailure) throw err;
      throw toApiFailure(err, 'list the account\u2019s batches');
    }

    const reportKey = auditKeys.report(input.schedule, input.stamp);
    const canceledOrphans = orphans.filter((o) => o.canceled).length;
    await store.writeJson(reportKey, {
      schedule: input.schedule,
      auditId: input.auditId,
      scheduledAt: input.scheduledAt,
      reconciledAt: new Date(nowMs).toISOString(),
      snapshot: input.snapshot,
      job: input.job,
      problem: input.problem,
      reconcile: {
        options: {
          cancelOrphans: input.cancelOrphans,
          orphanGraceMs: input.orphanGraceMs,
          downloadUncollected: input.downloadUncollected,
          uncollectedGraceMs: input.uncollectedGraceMs,
          lookbackMs: input.lookbackMs,
        },
        listed,
        recorded,
        young,
        orphans,
        canceledOrphans,
        uncollected,
        alreadyCopied,
      },
    });
    return {
      listed,
      recorded,
      young,
      orphanCount: orphans.length,
      canceledOrphans,
      orphans: orphans.slice(0, MAX_LISTED),
      uncollectedCount: uncollected.length,
      uncollected: uncollected.slice(0, MAX_LISTED),
      alreadyCopied,
      reportKey,
    };
  }

  /** True when this call asked the API to cancel; a batch that ended meanwhile needs nothing. */
  async function cancel(batchId: string): Promise<boolean> {
    try {
      const b = await anthropic.messages.batches.cancel(batchId);
      return b.processing_status !== 'ended';
    } catch (err) {
      if (err instanceof Anthropic.BadRequestError || err instanceof Anthropic.NotFoundError) return false;
      throw toApiFailure(err, `cancel orphan batch ${batchId}`);
    }
  }

  async function copyResults(batchId: string, resultsUrl: string | undefined, key: string): Promise<number> {
    async function* lines(): AsyncIterable<string> {
      let n = 0;
      for await (const item of streamBatchResults(anthropic, batchId, resultsUrl)) {
        if (++n % 1_000 === 0) heartbeat({ batchId, lines: n });
        yield JSON.stringify(item);
      }
    }
    try {
      return (await store.writeLines(key, lines())).lines;
    } catch (err) {
      throw toApiFailure(err, `download results of uncollected batch ${batchId}`);
    }
  }

  return { snapshotAuditInput, reconcileAccount };
}

/** Which batches a job filed something for, read once per job. */
class CollectedIndex {
  private readonly byJob = new Map<string, Set<string>>();
  constructor(private readonly store: BlobStore) {}

  async has(jobId: string, batchId: string): Promise<boolean> {
    let filed = this.byJob.get(jobId);
    if (!filed) {
      filed = new Set<string>();
      const keys = [...(await this.store.list(jobKeys.outcomesOfJob(jobId))), ...(await this.store.list(jobKeys.retriesOf(jobId)))];
      for (const key of keys) filed.add(key.slice(key.lastIndexOf('/') + 1).replace(/\.jsonl$/, ''));
      this.byJob.set(jobId, filed);
    }
    return filed.has(batchId);
  }
}
