/**
 * What a batch looks like at a given nominal instant, computed lazily from its stored plan: no timers, no
 * per-request state changes. Pure.
 */
import type { ErrorEnvelope } from './errors';
import { errorEnvelope } from './errors';
import type { StoredRequest } from './plan';
import type { SyntheticMessage } from './synthetic';
import { syntheticMessage } from './synthetic';
import { formatTimestamp } from './time';

export interface StoredBatch {
  id: string;
  /** Creation order (1, 2, ...), also part of the batch's seed. */
  seq: number;
  /** Seeds the order of result lines. */
  seed: number;
  createdAtMs: number;
  /** Real wall-clock ms of the create (for the transient-404 fault). */
  createdAtRealMs: number;
  expiresAtMs: number;
  archiveAtMs: number;
  /** When every request is done, or expires_at if some never finish. */
  naturalEndAtMs: number;
  cancelAtMs: number | null;
  /** When a canceled batch reaches `ended`. */
  cancelEndAtMs: number | null;
  requests: StoredRequest[];
}

export type ProcessingStatus = 'in_progress' | 'canceling' | 'ended';
export type Outcome = 'succeeded' | 'errored' | 'canceled' | 'expired';

export interface RequestCounts {
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

export interface MessageBatchObject {
  id: string;
  type: 'message_batch';
  processing_status: ProcessingStatus;
  request_counts: RequestCounts;
  created_at: string;
  expires_at: string;
  ended_at: string | null;
  cancel_initiated_at: string | null;
  archived_at: string | null;
  results_url: string | null;
}

export type ResultLine =
  | { custom_id: string; result: { type: 'succeeded'; message: SyntheticMessage } }
  | { custom_id: string; result: { type: 'errored'; error: ErrorEnvelope } }
  | { custom_id: string; result: { type: 'canceled' } }
  | { custom_id: string; result: { type: 'expired' } };

/** The nominal instant the batch ends: after a cancel, the cancel's end; otherwise its natural end. */
export function endAtMs(batch: StoredBatch): number {
  return batch.cancelEndAtMs ?? batch.naturalEndAtMs;
}

export function naturalEndAtMs(createdAtMs: number, expiresAtMs: number, requests: readonly StoredRequest[]): number {
  let last = createdAtMs;
  for (const request of requests) {
    if (request.finishOffsetMs === null) return expiresAtMs;
    last = Math.max(last, createdAtMs + request.finishOffsetMs);
  }
  return Math.min(last, expiresAtMs);
}

export function statusAt(batch: StoredBatch, nowMs: number): ProcessingStatus {
  if (nowMs >= endAtMs(batch)) return 'ended';
  return batch.cancelAtMs === null ? 'in_progress' : 'canceling';
}

function finishAtMs(batch: StoredBatch, request: StoredRequest): number {
  return request.finishOffsetMs === null ? Infinity : batch.createdAtMs + request.finishOffsetMs;
}

/** The outcome of a request once its batch has ended. */
export function finalOutcome(batch: StoredBatch, request: StoredRequest): Outcome {
  const finishAt = finishAtMs(batch, request);
  if (batch.cancelAtMs !== null && finishAt > batch.cancelAtMs) return 'canceled';
  if (finishAt > batch.expiresAtMs) return 'expired';
  return request.error ? 'errored' : 'succeeded';
}

const finalCountsCache = new WeakMap<StoredBatch, RequestCounts>();

/**
 * Counts at `nowMs`. Documented rule (liveCounts false): all `processing` until the batch ends. Observed
 * behaviour (liveCounts true): a request moves to succeeded/errored as soon as it finishes.
 */
export function countsAt(batch: StoredBatch, nowMs: number, liveCounts: boolean): RequestCounts {
  const counts: RequestCounts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  if (statusAt(batch, nowMs) === 'ended') {
    const cached = finalCountsCache.get(batch);
    if (cached) return { ...cached };
    for (const request of batch.requests) counts[finalOutcome(batch, request)]++;
    finalCountsCache.set(batch, { ...counts });
    return counts;
  }
  if (!liveCounts) return { ...counts, processing: batch.requests.length };
  const doneBy = Math.min(nowMs, batch.cancelAtMs ?? Infinity);
  for (const request of batch.requests) {
    if (finishAtMs(batch, request) <= doneBy) counts[request.error ? 'errored' : 'succeeded']++;
    else counts.processing++;
  }
  return counts;
}

export function isArchived(batch: StoredBatch, nowMs: number): boolean {
  return statusAt(batch, nowMs) === 'ended' && nowMs >= batch.archiveAtMs;
}

/** The MessageBatch object at `nowMs`; `origin` is the emulator's own origin, for an absolute results_url. */
export function toMessageBatch(
  batch: StoredBatch,
  nowMs: number,
  liveCounts: boolean,
  origin: string,
): MessageBatchObject {
  const status = statusAt(batch, nowMs);
  const ended = status === 'ended';
  return {
    id: batch.id,
    type: 'message_batch',
    processing_status: status,
    request_counts: countsAt(batch, nowMs, liveCounts),
    created_at: formatTimestamp(batch.createdAtMs),
    expires_at: formatTimestamp(batch.expiresAtMs),
    ended_at: ended ? formatTimestamp(endAtMs(batch)) : null,
    cancel_initiated_at: batch.cancelAtMs === null ? null : formatTimestamp(batch.cancelAtMs),
    archived_at: isArchived(batch, nowMs) ? formatTimestamp(batch.archiveAtMs) : null,
    results_url: ended ? `${origin}/v1/messages/batches/${batch.id}/results` : null,
  };
}

/** One line of the results file for an ended batch. */
export function resultLine(batch: StoredBatch, request: StoredRequest): ResultLine {
  const customId = request.customId;
  const outcome = finalOutcome(batch, request);
  switch (outcome) {
    case 'succeeded':
      return {
        custom_id: customId,
        result: { type: 'succeeded', message: syntheticMessage(customId, request, 'batch', request.cache) },
      };
    case 'errored': {
      const error = request.error ?? { type: 'api_error' as const, message: 'Internal server error' };
      return { custom_id: customId, result: { type: 'errored', error: errorEnvelope(error.type, error.message) } };
    }
    case 'canceled':
      return { custom_id: customId, result: { type: 'canceled' } };
    case 'expired':
      return { custom_id: customId, result: { type: 'expired' } };
  }
}
