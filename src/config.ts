/**
 * Everything that may differ between a laptop, a test and production, read from the environment once and
 * validated here, with a message naming the variable for each bad value.
 */
import path from 'node:path';
import { z } from 'zod';
import { parseCodecKeys } from './codec/keys';
import { ConfigError, configErrorFromZod } from './domain/errors';
import { SubmissionTimingSchema, type SubmissionTimingInput } from './domain/reconcile';
import { MIN_WORKER_MEMORY_MB } from './domain/worker-sizing';
import { loadTemporalConnection, type TemporalConnectionSettings } from './temporal/connection';

const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7233');
const positiveInt = z.coerce.number().int().min(1);
/** "localhost:4010" parses as a URL with the scheme "localhost:"; every call would then fail as a connection error. */
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. http://127.0.0.1:4010' });
/** An optional variable that counts as unset when empty (docker compose passes `VAR: ${VAR:-}` as ""). */
const unsetWhenEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** postgres:// or postgresql:// with a host (or ?host=/socket/dir) and a database. Messages never echo the value. */
const postgresUrl = z.string().superRefine((text, ctx) => {
  const example = 'e.g. postgres://sluice:secret@db.internal:5432/sluice';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `is not a URL: it must be a PostgreSQL URL, ${example}` });
    return;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    ctx.addIssue({ code: 'custom', message: `must start with postgres:// or postgresql:// (${example}); for a directory set SLUICE_STORE_DIR` });
  } else if (!url.hostname && !url.searchParams.get('host')) {
    ctx.addIssue({ code: 'custom', message: `names no host: ${example}` });
  } else if (url.pathname.replace(/^\//, '') === '') {
    ctx.addIssue({ code: 'custom', message: `names no database: ${example}` });
  }
});

const codecKeys = z.string().superRefine((text, ctx) => {
  try {
    parseCodecKeys(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof ConfigError ? err.reason : 'is invalid' });
  }
});

export const EnvSchema = z.object({
  /**
   * Temporal's own settings (TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, temporal.toml) are read by
   * src/temporal/connection.ts; these two are also profile fields, defaulting to 127.0.0.1:7233 and "default".
   */
  TEMPORAL_ADDRESS: unsetWhenEmpty(hostPort),
  TEMPORAL_NAMESPACE: unsetWhenEmpty(z.string().min(1)),
  SLUICE_TASK_QUEUE: z.string().min(1).default('sluice'),
  /**
   * gzip on the worker's gRPC connection to Temporal (src/temporal/grpc-compression.ts). `auto`: off to a loopback
   * address, where it only costs CPU on both ends; on otherwise.
   */
  SLUICE_TEMPORAL_COMPRESSION: z.enum(['auto', 'gzip', 'none'], { error: 'must be "auto", "gzip" or "none"' }).default('auto'),
  /**
   * Set: new intakes run on this queue, served by a second worker in each worker process (src/intake-worker.ts);
   * their sub-batch jobs still run on SLUICE_TASK_QUEUE. Unset: intakes run on SLUICE_TASK_QUEUE.
   */
  SLUICE_INTAKE_TASK_QUEUE: unsetWhenEmpty(z.string().min(1)),
  /**
   * What `sluice worker` serves: `all` (the jobs' queue, the poller's, and the intakes' when SLUICE_INTAKE_TASK_QUEUE
   * is set), `jobs` (all but the intakes'), `intakes` (only the intakes' queue): intakes on a process of their own, so
   * an enqueue never waits for a thread busy with sub-batch jobs.
   */
  SLUICE_WORKER_SERVES: z.enum(['all', 'jobs', 'intakes'], { error: 'must be "all", "jobs" or "intakes"' }).default('all'),
  /**
   * How long (ms) a CLI command that queries a job, intake or scheduler asks again while no worker has answered
   * (none runs, or one was just killed and the server has not yet given the workflow to another); 0 asks once.
   */
  SLUICE_QUERY_PATIENCE_MS: z.coerce
    .number({ error: 'must be a whole number of milliseconds, e.g. 30000' })
    .int({ error: 'must be a whole number of milliseconds, e.g. 30000' })
    .min(0, 'must be 0 (ask once) or more (ms)')
    .default(30_000),
  /** The Web UI, for links printed by the CLI. */
  SLUICE_WEB_UI: httpUrl.default('http://127.0.0.1:8233'),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: httpUrl.optional(),
  /** Where Sluice keeps its state (dev server database, store) when nothing else is said. */
  SLUICE_STATE_DIR: z.string().min(1).default('.sluice'),
  /** The job store directory; every worker and the CLI must see the same one. */
  SLUICE_STORE_DIR: z.string().min(1).optional(),
  /**
   * A PostgreSQL URL (postgres://user:password@host:5432/db): the job store lives in that database instead of a
   * directory, so workers on many hosts share it. Tables are created on first use (src/store/postgres-store.ts).
   */
  SLUICE_STORE: unsetWhenEmpty(postgresUrl),
  /** Connections one process opens to the PostgreSQL store at most: half for streaming reads, half for writes. */
  SLUICE_STORE_CONNECTIONS: z.coerce.number().int().min(2).default(8),
  /**
   * The memory one `sluice worker` process lives within, MB: it sets its own heap limit and sizes its activity slots
   * and workflow cache from it (src/domain/worker-sizing.ts). Unset: the container's cgroup limit, else 1,024.
   */
  SLUICE_WORKER_MEMORY_MB: unsetWhenEmpty(
    z.coerce.number().int().min(MIN_WORKER_MEMORY_MB, `must be at least ${MIN_WORKER_MEMORY_MB} (MB): a worker needs that much for Temporal's runtime and one sub-batch`),
  ),
  /** Activities one worker runs at once; unset: sized from the worker's memory budget. */
  SLUICE_ACTIVITY_CONCURRENCY: unsetWhenEmpty(positiveInt),
  /** Workflows kept in one worker's cache; unset: sized from the worker's memory budget. */
  SLUICE_WORKFLOW_CACHE: unsetWhenEmpty(positiveInt),
  /**
   * Activities per second the server hands out on the task queue, for all workers together (Temporal's
   * maxTaskQueueActivitiesPerSecond): keeps the fleet's calls to the batch endpoints under the API's rate limit.
   * Unset: no limit. Give every worker of a queue the same value.
   */
  SLUICE_TASK_QUEUE_ACTIVITIES_PER_SECOND: unsetWhenEmpty(z.coerce.number().positive()),
  /** A prebuilt workflow bundle (`npm run build:bundle`); the worker bundles at start without it. */
  SLUICE_WORKFLOW_BUNDLE: unsetWhenEmpty(z.string()),
  /** host:port for the Prometheus endpoint (/metrics) of Temporal's and Sluice's metrics, e.g. 0.0.0.0:9464. Unset: off. */
  SLUICE_METRICS_ADDRESS: unsetWhenEmpty(hostPort),
  /**
   * Payload encryption keys, `id:base64-of-32-bytes` separated by commas. The first encrypts; all decrypt (rotation:
   * put the new key first, keep the old ones while histories encrypted with them are kept). Unset: no encryption.
   */
  SLUICE_CODEC_KEYS: unsetWhenEmpty(codecKeys),
  /** When set, the codec server (`sluice codec-server`) requires `Authorization: Bearer <token>`. */
  SLUICE_CODEC_SERVER_TOKEN: unsetWhenEmpty(z.string().min(16, 'must be at least 16 characters')),
  /** JSON price overrides, e.g. {"my-model":{"inputUsdPerMTok":2,"outputUsdPerMTok":8}}. */
  SLUICE_PRICES: z.string().optional(),
  /** Room in the account's batch queue that the API key's scheduler shares out, and how jobs make room. */
  SLUICE_QUEUE_MAX_REQUESTS: positiveInt.default(100_000),
  SLUICE_QUEUE_MAX_BATCHES: positiveInt.default(1_000),
  SLUICE_QUEUE_PREEMPT: z.enum(['stop', 'cancel']).default('stop'),
  /**
   * How often a job holding or waiting for room re-asks the scheduler with what it holds (so a restarted scheduler
   * rebuilds its members), and how many refreshes a member may miss before its room returns to the pool.
   */
  SLUICE_QUEUE_REFRESH_MS: z.coerce.number().int().min(100, 'must be at least 100 (ms): every refresh is an activity and a signal').default(60_000),
  SLUICE_QUEUE_MISSED_REFRESHES: positiveInt.default(3),
  /**
   * `on`: one poller per namespace and API key walks the batch list once per tick for every job (docs/performance.md,
   * "Many jobs, one poll"); `off`: each job polls its own batches. Jobs started on the old code always poll alone.
   */
  SLUICE_ACCOUNT_POLL: z.enum(['on', 'off'], { error: 'must be "on" or "off"' }).default('on'),
  /**
   * The create call's SDK timeout and reconciliation timing (src/domain/reconcile.ts, defaults 90 s, 30 s, 60 s).
   * Shorter values suit an emulator; the create timeout must stay below the submit activity's start-to-close.
   */
  SLUICE_CREATE_TIMEOUT_MS: unsetWhenEmpty(positiveInt),
  SLUICE_RECONCILE_LIST_LAG_MS: unsetWhenEmpty(positiveInt),
  SLUICE_RECONCILE_CLAIM_GRACE_MS: unsetWhenEmpty(positiveInt),
  /**
   * Worker-clock ms per ms of the API's clock: 1 against the real API; the emulator's time scale (e.g. 0.001) when
   * it compresses time. Learned batch windows (`--window learned`) convert the API's batch latencies with it.
   */
  SLUICE_API_TIME_SCALE: z.coerce.number().positive().max(1).default(1),
  SLUICE_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});
export type SluiceEnv = z.output<typeof EnvSchema>;

/** Where the job store lives: chosen by SLUICE_STORE (PostgreSQL) or SLUICE_STORE_DIR (a directory, the default). */
export type StoreChoice =
  | { kind: 'local'; dir: string }
  | { kind: 'postgres'; url: string; maxConnections: number };

export interface SluiceConfig extends Omit<SluiceEnv, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'> {
  /** Resolved: environment, else the Temporal profile, else the default. */
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
  /** How to connect (address, TLS, API key), from Temporal's environment configuration. */
  temporal: TemporalConnectionSettings;
  /** The local store directory (also set when the store is PostgreSQL, for commands that only know directories). */
  storeDir: string;
  store: StoreChoice;
}

/** The submission timing the environment asks for (unset fields keep their defaults). */
export function submissionTimingFromEnv(cfg: SluiceEnv): SubmissionTimingInput {
  return {
    ...(cfg.SLUICE_CREATE_TIMEOUT_MS !== undefined && { createTimeoutMs: cfg.SLUICE_CREATE_TIMEOUT_MS }),
    ...(cfg.SLUICE_RECONCILE_LIST_LAG_MS !== undefined && { listLagMs: cfg.SLUICE_RECONCILE_LIST_LAG_MS }),
    ...(cfg.SLUICE_RECONCILE_CLAIM_GRACE_MS !== undefined && { claimGraceMs: cfg.SLUICE_RECONCILE_CLAIM_GRACE_MS }),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SluiceConfig {
  const parsed = EnvSchema.safeParse(env);
  // zod's messages name the variable and the rule, never the value (which may be a key).
  if (!parsed.success) throw configErrorFromZod(parsed.error);
  const cfg = parsed.data;
  if (cfg.SLUICE_STORE && cfg.SLUICE_STORE_DIR) {
    throw new ConfigError('SLUICE_STORE', 'and SLUICE_STORE_DIR are both set: choose PostgreSQL or a directory, not both');
  }
  if (cfg.SLUICE_WORKER_SERVES === 'intakes' && !cfg.SLUICE_INTAKE_TASK_QUEUE) {
    throw new ConfigError('SLUICE_WORKER_SERVES', 'is "intakes" but SLUICE_INTAKE_TASK_QUEUE is not set: name the intakes\' queue');
  }
  // Checked here, so a create timeout at or above the activity's start-to-close names its variable.
  const timing = SubmissionTimingSchema.safeParse(submissionTimingFromEnv(cfg));
  if (!timing.success) throw new ConfigError('SLUICE_CREATE_TIMEOUT_MS', timing.error.issues[0]?.message ?? 'is invalid');
  const storeDir = path.resolve(cfg.SLUICE_STORE_DIR ?? path.join(cfg.SLUICE_STATE_DIR, 'store'));
  const store: StoreChoice = cfg.SLUICE_STORE
    ? { kind: 'postgres', url: cfg.SLUICE_STORE, maxConnections: cfg.SLUICE_STORE_CONNECTIONS }
    : { kind: 'local', dir: storeDir };
  const temporal = loadTemporalConnection(env);
  return { ...cfg, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace, temporal, storeDir, store };
}
