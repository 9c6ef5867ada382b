/**
 * Emulator options: one zod schema, defaults declared next to each field. `EmulatorOptions` is what callers
 * pass (everything optional), `EmulatorConfig` what the emulator runs with (defaults filled in).
 *
 * Units: every duration of the simulated service (latency, window, cancel delay, retention) is in NOMINAL ms
 * (see time.ts); every duration of a transport fault (slow responses, retry-after, the 404 after create) is
 * in REAL ms or seconds, because it acts on the HTTP exchange itself.
 */
import { z } from 'zod';
import { DEFAULT_SERVED_MODELS, servedModelSchema } from './models';
import { DAY_MS, MINUTE_MS, SECOND_MS } from './time';

export const ENDPOINTS = ['create', 'retrieve', 'list', 'cancel', 'delete', 'results', 'messages', 'models', 'count_tokens'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];
/** Where faults apply unless told otherwise: every endpoint but the Models API (read once per job) and token counting. */
const DEFAULT_FAULT_ENDPOINTS: Endpoint[] = ['create', 'retrieve', 'list', 'cancel', 'delete', 'results', 'messages'];

export const ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'rate_limit_error',
  'timeout_error',
  'overloaded_error',
  'api_error',
  'billing_error',
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

const DEFAULT_LOGNORMAL_MIN_MS = 30 * SECOND_MS;
const DEFAULT_LOGNORMAL_MAX_MS = 2 * DAY_MS;
const DEFAULT_CANCEL_DELAY_MS = 25 * SECOND_MS;
const DEFAULT_RETENTION_MS = 29 * DAY_MS;
const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;

const rate = z.number().min(0).max(1);
const allEndpoints = z.array(z.enum(ENDPOINTS)).default([...DEFAULT_FAULT_ENDPOINTS]);
/** After firing this many times the fault stops (handy for "fail once, then succeed"). Unlimited if absent. */
const maxTimes = z.number().int().min(0).optional();

/** An HTTP error answered instead of the real response. */
const httpFault = (retryAfterSeconds?: number) =>
  z
    .strictObject({
      rate: rate.default(0),
      endpoints: allEndpoints,
      maxTimes,
      /** Sent as the `retry-after` header (seconds, may be fractional). */
      retryAfterSeconds:
        retryAfterSeconds === undefined ? z.number().min(0).optional() : z.number().min(0).default(retryAfterSeconds),
    })
    .prefault({});

/** A fault aimed at an exact call (see targeted-faults.ts). */
const targetedFaultSchema = z
  .strictObject({
    endpoint: z.enum(ENDPOINTS),
    /** 1-based numbers of the calls of that endpoint the fault hits (counted since start or reset). */
    calls: z.array(z.number().int().min(1)).optional(),
    /** create only: hits a call whose body holds a request with a custom_id matching this RegExp source. */
    customId: z.string().optional(),
    /**
     * resetBefore: the socket is destroyed, nothing happens. resetAfter: the work is done, the answer is lost.
     * delayAfter: the work is done, the answer waits `delayMs` (a client that timed out never sees it).
     * delayBefore: the call waits `delayMs` first; a client gone by then is not served (nothing happens).
     * error: answer `errorType` instead of doing the work.
     */
    action: z.enum(['resetBefore', 'resetAfter', 'delayAfter', 'delayBefore', 'error']),
    delayMs: z.number().min(0).default(0),
    errorType: z.enum(ERROR_TYPES).default('api_error'),
  })
  .refine((f) => f.calls !== undefined || f.customId !== undefined, { message: 'give calls or customId (or both)' })
  .refine((f) => f.customId === undefined || f.endpoint === 'create', { message: 'customId targets create calls only' });

/**
 * A request whose custom_id (or, with `in: 'messages'`, whose messages as JSON text) matches `pattern` comes back
 * errored with `type`. Clients that put their own ids on the wire (Sluice's wire ids) are aimed at by content.
 */
const errorRuleSchema = z.strictObject({
  pattern: z.string(),
  type: z.enum(ERROR_TYPES),
  message: z.string().optional(),
  in: z.enum(['custom_id', 'messages']).default('custom_id'),
});

/** A request matching `pattern` (in its custom_id, or its messages as JSON text) is answered with `answer` (answer-shape.ts). */
const badAnswerRuleSchema = z.strictObject({
  pattern: z.string(),
  in: z.enum(['custom_id', 'messages']).default('custom_id'),
  answer: z.enum(['prose', 'wrong_shape', 'fenced_json']).default('prose'),
});

const faultsSchema = z
  .strictObject({
    /** 429 rate_limit_error with `retry-after` (default 1 s). */
    rateLimit: httpFault(1),
    /** 500 api_error. */
    apiError: httpFault(),
    /** 529 overloaded_error. */
    overloaded: httpFault(),
    /** 504 timeout_error. */
    timeout: httpFault(),
    /** Adds `delayMs` real ms before the response. */
    slow: z
      .strictObject({
        rate: rate.default(0),
        endpoints: allEndpoints,
        maxTimes,
        delayMs: z.number().min(0).default(2_000),
      })
      .prefault({}),
    /**
     * Destroys the socket. phase 'before': nothing happened on the server; 'after': the request WAS processed
     * (e.g. the batch created) but the response is lost, so a client retry duplicates it.
     */
    connectionReset: z
      .strictObject({
        rate: rate.default(0),
        endpoints: allEndpoints,
        maxTimes,
        phase: z.enum(['before', 'after']).default('before'),
      })
      .prefault({}),
    /** 404 not_found_error for a batch less than `withinMs` real ms old (0 = off), as observed right after create. */
    notFoundAfterCreate: z
      .strictObject({
        rate: rate.default(1),
        withinMs: z.number().min(0).default(0),
        endpoints: z.array(z.enum(['retrieve', 'results', 'cancel', 'delete'])).default(['retrieve', 'results']),
        maxTimes,
      })
      .prefault({}),
    /**
     * Cuts a results download: the socket is destroyed after `afterLines` lines and half of the next; with `pauseMs`,
     * the lines sent so far are flushed and the cut comes that many real ms later (a connection that drops while the
     * client has stopped reading). With `ending: 'clean'` the body instead ends properly after `afterLines` whole
     * lines, as a proxy that gives up at a line boundary would: nothing tells the client the download is short.
     */
    resultsCut: z
      .strictObject({
        rate: rate.default(0),
        afterLines: z.number().int().min(0).default(100),
        pauseMs: z.number().min(0).default(0),
        ending: z.enum(['reset', 'clean']).default('reset'),
        maxTimes,
      })
      .prefault({}),
    /** Faults aimed at the n-th call of an endpoint or at a create holding a custom_id (deterministic). */
    targeted: z.array(targetedFaultSchema).default([]),
    /** The list endpoint leaves out batches created less than `withinMs` real ms ago (0 = off), as a lagging index would. */
    listLag: z.strictObject({ withinMs: z.number().min(0).default(0) }).prefault({}),
    /** Per error type, the share of requests that come back `errored` with it (summed, at most 1). */
    resultErrors: z.partialRecord(z.enum(ERROR_TYPES), rate).default({}),
    /** Share of requests that never finish and come back `expired` (their batch then runs to expires_at). */
    expiredRate: rate.default(0),
    /**
     * Packed prompts (pack-answers.ts) whose messages, as JSON text, match one of these RegExp sources are answered
     * with an array one element short: an unusable answer aimed at a chosen pack.
     */
    malformedAnswers: z.array(z.string()).default([]),
    /** Requests matching a rule (errorRuleSchema) always come back errored with its `type`. */
    errorCustomIds: z
      .union([
        errorRuleSchema,
        z.array(errorRuleSchema),
      ])
      .default([])
      .transform((rules) => (Array.isArray(rules) ? rules : [rules])),
    /** Requests matching a rule succeed with an answer of the rule's shape (not JSON, wrong JSON, fenced JSON). */
    badAnswers: z
      .union([badAnswerRuleSchema, z.array(badAnswerRuleSchema)])
      .default([])
      .transform((rules) => (Array.isArray(rules) ? rules : [rules])),
  })
  .prefault({})
  .refine((f) => Object.values(f.resultErrors).reduce((a, b) => a + b, 0) + f.expiredRate <= 1, {
    message: 'resultErrors rates plus expiredRate must sum to at most 1',
  });

/** How long a batch takes (nominal). Each request then finishes at `duration × (1 - spread × u)`, u ~ U[0, 1). */
const batchDurationSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('lognormal'),
    medianMs: z.number().positive(),
    sigma: z.number().min(0),
    minMs: z.number().min(0).default(DEFAULT_LOGNORMAL_MIN_MS),
    maxMs: z.number().positive().default(DEFAULT_LOGNORMAL_MAX_MS),
  }),
  z.strictObject({ kind: z.literal('uniform'), minMs: z.number().min(0), maxMs: z.number().min(0) }),
  z.strictObject({ kind: z.literal('fixed'), ms: z.number().min(0) }),
]);

export const emulatorOptionsSchema = z.strictObject({
  /** TCP port; 0 picks a free one. */
  port: z.number().int().min(0).max(65_535).default(0),
  host: z.string().default('127.0.0.1'),
  /** The only API key accepted (as `x-api-key` or `Authorization: Bearer`). */
  apiKey: z.string().min(1).default('sk-emulator'),
  /** real ms = nominal ms × timeScale (0.001 makes 24 h last 86.4 s). */
  timeScale: z.number().positive().default(1),
  /** Seeds every random draw: latencies, fates of requests, faults, result order. */
  seed: z.number().int().default(1),
  /**
   * Default: median 5 min, σ 1.8 → ~92 % of batches end within an hour, ~0.08 % run past 24 h and partly
   * expire; clamped to [30 s, 48 h].
   */
  latency: z
    .strictObject({
      batch: batchDurationSchema.default({
        kind: 'lognormal',
        medianMs: 5 * MINUTE_MS,
        sigma: 1.8,
        minMs: DEFAULT_LOGNORMAL_MIN_MS,
        maxMs: DEFAULT_LOGNORMAL_MAX_MS,
      }),
      spread: rate.default(0.9),
    })
    .prefault({}),
  /** Nominal ms from cancel to `ended`. */
  cancelDelayMs: z.number().min(0).default(DEFAULT_CANCEL_DELAY_MS),
  /** What cancel does on an ended batch: return it unchanged, or 400 invalid_request_error. */
  cancelEnded: z.enum(['ok', 'error']).default('ok'),
  /** Nominal ms from created_at to expires_at. */
  windowMs: z.number().positive().default(DAY_MS),
  /** Nominal ms from created_at to archived_at (results then 404). */
  resultsRetentionMs: z.number().positive().default(DEFAULT_RETENTION_MS),
  /** false: the documented rule (all `processing` until ended); true: counts move while in progress. */
  liveCounts: z.boolean().default(false),
  /** Request bodies above this many bytes get 413 request_too_large. */
  maxBodyBytes: z.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
  maxRequestsPerBatch: z.number().int().positive().default(100_000),
  /**
   * The models the account has (served by GET /v1/models, and checked in every request: unknown or retired
   * names, max_tokens, per-model rules), and a prefix that makes any other name usable too (null: only the list).
   */
  models: z
    .strictObject({
      lineup: z.array(servedModelSchema).default(DEFAULT_SERVED_MODELS),
      acceptPrefix: z.string().nullable().default(null),
    })
    .prefault({}),
  faults: faultsSchema,
  /** JSON file the batches and stats are saved to (debounced) and loaded from at start. */
  statePath: z.string().optional(),
  saveDebounceMs: z.number().int().min(0).default(200),
});

export type EmulatorOptions = z.input<typeof emulatorOptionsSchema>;
export type EmulatorConfig = z.output<typeof emulatorOptionsSchema>;
export type FaultsConfig = EmulatorConfig['faults'];
export type TargetedFault = FaultsConfig['targeted'][number];
export type LatencyConfig = EmulatorConfig['latency'];

/** Validates options; throws an Error listing every problem. */
export function parseEmulatorOptions(options: EmulatorOptions = {}): EmulatorConfig {
  const parsed = emulatorOptionsSchema.safeParse(options);
  if (!parsed.success) throw new Error(`Invalid emulator options:\n${z.prettifyError(parsed.error)}`);
  for (const rule of parsed.data.faults.targeted) {
    try {
      if (rule.customId !== undefined) new RegExp(rule.customId);
    } catch (err) {
      throw new Error(`Invalid emulator options: faults.targeted customId ${rule.customId}`, { cause: err });
    }
  }
  for (const pattern of parsed.data.faults.malformedAnswers) {
    try {
      new RegExp(pattern);
    } catch (err) {
      throw new Error(`Invalid emulator options: faults.malformedAnswers pattern ${pattern}`, { cause: err });
    }
  }
  for (const rule of [...parsed.data.faults.errorCustomIds, ...parsed.data.faults.badAnswers]) {
    try {
      new RegExp(rule.pattern);
    } catch (err) {
      throw new Error(`Invalid emulator options: faults pattern ${rule.pattern}`, { cause: err });
    }
  }
  return parsed.data;
}
