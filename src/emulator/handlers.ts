/**
 * One handler per endpoint. A handler works on a request whose body is already read, changes the store,
 * and returns a Reply; the server decides how (or whether, under a fault) to send it.
 */
import type { StoredBatch } from './batch-state';
import { isArchived, statusAt, toMessageBatch } from './batch-state';
import type { EmulatorConfig, Endpoint, ErrorType } from './config';
import type { FaultInjector } from './faults';
import { parseJson } from './http';
import { listModels, retrieveModel } from './models';
import type { BatchStore } from './store';
import type { StatsRecorder } from './stats';
import { cachePoints, minCacheTokens } from './prompt-cache';
import { inputTokensOf, summariseParams, syntheticMessage } from './synthetic';
import { answerKindOf, compileAnswerRules } from './answer-shape';
import type { NominalClock } from './time';
import { formatTimestamp } from './time';
import { validateCountTokensParams, validateParams } from './params-validation';
import { validateCreateBody } from './validation';
import { malformedFor } from './pack-answers';

export type Reply =
  | { kind: 'json'; body: unknown }
  | { kind: 'error'; type: ErrorType | 'request_too_large'; message?: string }
  | { kind: 'results'; batch: StoredBatch }
  | { kind: 'stream'; message: ReturnType<typeof syntheticMessage> };

export interface Services {
  config: EmulatorConfig;
  clock: NominalClock;
  store: BatchStore;
  stats: StatsRecorder;
  faults: FaultInjector;
  /** Called after every change worth saving. */
  changed(): void;
}

export interface Call {
  endpoint: Endpoint;
  batchId: string | null;
  query: URLSearchParams;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  /** The emulator's origin as the client reached it, for results_url. */
  origin: string;
}

/** Header naming the custom_id a POST /v1/messages call stands for (see stats.ts). */
export const SYNC_CUSTOM_ID_HEADER = 'x-sluice-custom-id';

function notFound(id: string): Reply {
  return { kind: 'error', type: 'not_found_error', message: `Message batch ${id} not found.` };
}

function batchReply(services: Services, batch: StoredBatch, origin: string): Reply {
  return { kind: 'json', body: toMessageBatch(batch, services.clock.nowMs(), services.config.liveCounts, origin) };
}

/** The batch of this call, or the 404 to answer (unknown id, or the observed 404 right after create). */
function findBatch(services: Services, call: Call): StoredBatch | Reply {
  const id = call.batchId ?? '';
  const batch = services.store.get(id);
  if (!batch) return notFound(id);
  if (services.faults.notFoundAfterCreate(call.endpoint, Date.now() - batch.createdAtRealMs)) return notFound(id);
  return batch;
}

function isReply(value: StoredBatch | Reply): value is Reply {
  return 'kind' in value;
}

function create(services: Services, call: Call): Reply {
  const json = parseJson(call.body);
  if (!json.ok) return { kind: 'error', type: 'invalid_request_error', message: json.message };
  const validation = validateCreateBody(json.value, services.config.maxRequestsPerBatch);
  if (!validation.ok) return { kind: 'error', type: 'invalid_request_error', message: validation.message };
  const batch = services.store.create(validation.requests);
  services.stats.recordBatch(
    {
      batchId: batch.id,
      at: formatTimestamp(batch.createdAtMs),
      requestCount: batch.requests.length,
      firstCustomId: batch.requests[0]?.customId ?? '',
    },
    batch.requests,
  );
  services.changed();
  return batchReply(services, batch, call.origin);
}

function retrieve(services: Services, call: Call): Reply {
  const batch = findBatch(services, call);
  return isReply(batch) ? batch : batchReply(services, batch, call.origin);
}

function parseLimit(raw: string | null): number | string {
  if (raw === null) return 20;
  if (!/^-?\d+$/.test(raw)) return 'limit: Input should be a valid integer, unable to parse string as an integer';
  const limit = Number(raw);
  if (limit < 1) return 'limit: Input should be greater than or equal to 1';
  if (limit > 1000) return 'limit: Input should be less than or equal to 1000';
  return limit;
}

function list(services: Services, call: Call): Reply {
  const limit = parseLimit(call.query.get('limit'));
  if (typeof limit === 'string') return { kind: 'error', type: 'invalid_request_error', message: limit };
  const beforeId = call.query.get('before_id') ?? undefined;
  const afterId = call.query.get('after_id') ?? undefined;
  if (beforeId !== undefined && afterId !== undefined) {
    return {
      kind: 'error',
      type: 'invalid_request_error',
      message: 'Only one of before_id and after_id may be given.',
    };
  }
  const page = services.store.list({ limit, beforeId, afterId });
  const nowMs = services.clock.nowMs();
  // A lagging index (a fault switch): the newest batches are not listed yet.
  const lagMs = services.faults.listLagMs;
  const visible = lagMs > 0 ? page.data.filter((batch) => Date.now() - batch.createdAtRealMs >= lagMs) : page.data;
  const data = visible.map((batch) => toMessageBatch(batch, nowMs, services.config.liveCounts, call.origin));
  return {
    kind: 'json',
    body: { data, has_more: page.hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null },
  };
}

function cancel(services: Services, call: Call): Reply {
  const found = findBatch(services, call);
  if (isReply(found)) return found;
  const result = services.store.cancel(found.id);
  if (!result.ok && result.reason === 'already_ended' && services.config.cancelEnded === 'error') {
    return {
      kind: 'error',
      type: 'invalid_request_error',
      message: `Batch ${found.id} has already ended and cannot be canceled.`,
    };
  }
  services.changed();
  return batchReply(services, found, call.origin);
}

function remove(services: Services, call: Call): Reply {
  const found = findBatch(services, call);
  if (isReply(found)) return found;
  const result = services.store.delete(found.id);
  if (!result.ok) {
    return {
      kind: 'error',
      type: 'invalid_request_error',
      message: 'In progress batches cannot be deleted. Please cancel the batch first and wait for it to end.',
    };
  }
  services.changed();
  return { kind: 'json', body: { id: found.id, type: 'message_batch_deleted' } };
}

function results(services: Services, call: Call): Reply {
  const found = findBatch(services, call);
  if (isReply(found)) return found;
  const nowMs = services.clock.nowMs();
  if (statusAt(found, nowMs) !== 'ended' || isArchived(found, nowMs)) {
    return { kind: 'error', type: 'not_found_error', message: `Message batch ${found.id} has no available results.` };
  }
  return { kind: 'results', batch: found };
}

/** A request body that must be a JSON object, as the Messages endpoints take. */
function bodyObject(call: Call): { ok: true; record: Record<string, unknown> } | { ok: false; reply: Reply } {
  const json = parseJson(call.body);
  if (!json.ok) return { ok: false, reply: { kind: 'error', type: 'invalid_request_error', message: json.message } };
  const params = json.value;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    return { ok: false, reply: { kind: 'error', type: 'invalid_request_error', message: 'Input should be a valid dictionary' } };
  }
  return { ok: true, record: params as Record<string, unknown> };
}

function messages(services: Services, call: Call): Reply {
  const body = bodyObject(call);
  if (!body.ok) return body.reply;
  const record = body.record;
  const problem = validateParams(record, services.config.models, 'sync');
  if (problem) return { kind: 'error', type: 'invalid_request_error', message: problem };
  const summary = summariseParams(record);
  if (summary.packItems !== undefined && malformedFor(record, services.config.faults.malformedAnswers.map((p) => new RegExp(p)))) summary.malformed = true;
  const header = call.headers[SYNC_CUSTOM_ID_HEADER];
  const key = services.stats.syncKey(typeof header === 'string' ? header : undefined, summary.digest);
  services.stats.recordSync(key);
  const points = cachePoints(record, summary.inputTokens);
  const cache = points.length === 0 ? undefined : services.store.promptCache.use(points, services.clock.nowMs(), minCacheTokens(summary.model, services.config.models.lineup));
  const answer = answerKindOf(typeof header === 'string' ? header : '', record, compileAnswerRules(services.config.faults));
  const message = syntheticMessage(key.startsWith('sync:') ? '' : key, { ...summary, ...(answer && { answer }) }, 'standard', cache);
  return record['stream'] === true ? { kind: 'stream', message } : { kind: 'json', body: message };
}

/** POST /v1/messages/count_tokens: free, never billed; the same input tokens the request's usage would show. */
function countTokens(services: Services, call: Call): Reply {
  const body = bodyObject(call);
  if (!body.ok) return body.reply;
  const record = body.record;
  const problem = validateCountTokensParams(record, services.config.models);
  if (problem) return { kind: 'error', type: 'invalid_request_error', message: problem };
  services.stats.recordTokenCount();
  return { kind: 'json', body: { input_tokens: inputTokensOf(record) } };
}

function models(services: Services, call: Call): Reply {
  const lineup = services.config.models.lineup;
  const page = call.batchId === null ? listModels(lineup, call.query) : retrieveModel(lineup, call.batchId);
  if (page.ok) return { kind: 'json', body: page.body };
  return { kind: 'error', type: page.status === 'invalid' ? 'invalid_request_error' : 'not_found_error', message: page.message };
}

export const HANDLERS: Record<Endpoint, (services: Services, call: Call) => Reply> = {
  models,
  create,
  retrieve,
  list,
  cancel,
  delete: remove,
  results,
  messages,
  count_tokens: countTokens,
};
