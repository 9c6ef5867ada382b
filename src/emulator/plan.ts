/**
 * The fate of every request, decided once at create and stored with the batch (so a batch never changes
 * after creation, even if the emulator restarts with other options). Pure.
 *
 * Timing model: the batch draws a duration D (its "pace", shared by its requests as load is on the real
 * service); request i finishes at created_at + D × (1 - spread × u_i). A request with no finish time
 * (`finishOffsetMs: null`) is one the service never reaches: it expires at expires_at.
 */
import type { ErrorType, FaultsConfig, LatencyConfig } from './config';
import { DEFAULT_ERROR_MESSAGES } from './errors';
import type { Random } from './prng';
import { normal } from './prng';
import type { CacheUsage, PromptCache } from './prompt-cache';
import { cachePoints, minCacheTokens } from './prompt-cache';
import type { ParamsSummary } from './synthetic';
import { summariseParams } from './synthetic';
import { answerKindOf, compileAnswerRules, type CompiledAnswerRules } from './answer-shape';
import type { BatchRequestInput, ModelRules } from './validation';
import { validateParams } from './params-validation';
import { malformedFor } from './pack-answers';

export interface StoredRequest extends ParamsSummary {
  customId: string;
  /** Nominal ms after created_at at which the request finishes; null = never (expires). */
  finishOffsetMs: number | null;
  /** Set when the request ends `errored` (if it finishes in time and is not canceled). */
  error: { type: ErrorType; message: string } | null;
  /** Its prompt-cache usage, for a request that marks a prefix (prompt-cache.ts); absent otherwise. */
  cache?: CacheUsage;
}

export interface PlanContext {
  latency: LatencyConfig;
  faults: FaultsConfig;
  models: ModelRules;
  /** A generator seeded for this batch. */
  random: Random;
}

export function drawBatchDurationMs(latency: LatencyConfig, random: Random): number {
  const batch = latency.batch;
  switch (batch.kind) {
    case 'fixed':
      return batch.ms;
    case 'uniform':
      return batch.minMs + random() * Math.max(0, batch.maxMs - batch.minMs);
    case 'lognormal': {
      const drawn = batch.medianMs * Math.exp(batch.sigma * normal(random));
      return Math.min(batch.maxMs, Math.max(batch.minMs, drawn));
    }
  }
}

interface CompiledFates {
  customIdRules: { regex: RegExp; in: 'custom_id' | 'messages'; type: ErrorType; message: string }[];
  malformed: RegExp[];
  /** Cumulative thresholds over one uniform draw: expired first, then each error type. */
  thresholds: { upTo: number; fate: 'expired' | ErrorType }[];
  answers: CompiledAnswerRules;
}

function compileFates(faults: FaultsConfig): CompiledFates {
  const thresholds: CompiledFates['thresholds'] = [];
  let upTo = 0;
  if (faults.expiredRate > 0) thresholds.push({ upTo: (upTo += faults.expiredRate), fate: 'expired' });
  for (const [type, rate] of Object.entries(faults.resultErrors) as [ErrorType, number][]) {
    if (rate > 0) thresholds.push({ upTo: (upTo += rate), fate: type });
  }
  const customIdRules = faults.errorCustomIds.map((rule) => ({
    regex: new RegExp(rule.pattern),
    in: rule.in,
    type: rule.type,
    message: rule.message ?? DEFAULT_ERROR_MESSAGES[rule.type],
  }));
  return { customIdRules, thresholds, malformed: faults.malformedAnswers.map((p) => new RegExp(p)), answers: compileAnswerRules(faults) };
}

function planOne(input: BatchRequestInput, durationMs: number, ctx: PlanContext, fates: CompiledFates): StoredRequest {
  const answer = answerKindOf(input.custom_id, input.params, fates.answers);
  const summary = { ...summariseParams(input.params), ...(answer && { answer }) };
  // Always two draws per request, so one request's fate never shifts another's timing.
  const finishOffsetMs = durationMs * (1 - ctx.latency.spread * ctx.random());
  const fateDraw = ctx.random();
  const malformed = summary.packItems !== undefined && malformedFor(input.params, fates.malformed);
  const stored: StoredRequest = { customId: input.custom_id, ...summary, ...(malformed && { malformed }), finishOffsetMs, error: null };

  const invalid = validateParams(input.params, ctx.models, 'batch');
  if (invalid) return { ...stored, error: { type: 'invalid_request_error', message: invalid } };
  const rule = fates.customIdRules.find((r) =>
    r.regex.test(r.in === 'custom_id' ? input.custom_id : JSON.stringify((input.params as { messages?: unknown }).messages ?? null)),
  );
  if (rule) return { ...stored, error: { type: rule.type, message: rule.message } };
  const fate = fates.thresholds.find((t) => fateDraw < t.upTo)?.fate;
  if (fate === 'expired') return { ...stored, finishOffsetMs: null };
  if (fate) return { ...stored, error: { type: fate, message: DEFAULT_ERROR_MESSAGES[fate] } };
  return stored;
}

export function planRequests(inputs: BatchRequestInput[], ctx: PlanContext): StoredRequest[] {
  const durationMs = drawBatchDurationMs(ctx.latency, ctx.random);
  const fates = compileFates(ctx.faults);
  return inputs.map((input) => planOne(input, durationMs, ctx, fates));
}

/**
 * Prompt-cache usage of a new batch's requests, taken in the order they are processed (finish time, then position):
 * the first of a prefix writes, the rest read while the entry lives. Requests that never run (expired) or end in an
 * error cache nothing. Done once at create, like every other fate.
 */
export function applyPromptCache(
  requests: StoredRequest[],
  inputs: readonly BatchRequestInput[],
  createdAtMs: number,
  cache: PromptCache,
  models: ModelRules,
): void {
  const order = requests
    .map((request, i) => ({ request, i }))
    .filter(({ request }) => request.finishOffsetMs !== null && request.error === null)
    .sort((a, b) => a.request.finishOffsetMs! - b.request.finishOffsetMs! || a.i - b.i);
  for (const { request, i } of order) {
    const points = cachePoints(inputs[i]!.params, request.inputTokens);
    if (points.length === 0) continue;
    request.cache = cache.use(points, createdAtMs + request.finishOffsetMs!, minCacheTokens(request.model, models.lineup));
  }
}
