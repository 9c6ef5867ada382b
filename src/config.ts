/**
 * Everything that may differ between a laptop, a test and production, read from the environment once and
 * validated here, with a message naming the variable for each bad value.
 */
import path from 'node:path';
import { z } from 'zod';
import { configErrorFromZod } from './domain/errors';

const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7233');
const positiveInt = z.coerce.number().int().min(1);

export const EnvSchema = z.object({
  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  SLUICE_TASK_QUEUE: z.string().min(1).default('sluice'),
  /** The Web UI, for links printed by the CLI. */
  SLUICE_WEB_UI: z.url().default('http://127.0.0.1:8233'),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: z.url().optional(),
  /** Where Sluice keeps its state (dev server database, store) when nothing else is said. */
  SLUICE_STATE_DIR: z.string().min(1).default('.sluice'),
  /** The job store directory; every worker and the CLI must see the same one. */
  SLUICE_STORE_DIR: z.string().min(1).optional(),
  /** Activities one worker runs at once. */
  SLUICE_ACTIVITY_CONCURRENCY: positiveInt.default(32),
  /** Workflows kept in one worker's cache. */
  SLUICE_WORKFLOW_CACHE: positiveInt.default(200),
  /** JSON price overrides, e.g. {"my-model":{"inputUsdPerMTok":2,"outputUsdPerMTok":8}}. */
  SLUICE_PRICES: z.string().optional(),
  SLUICE_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});
export type SluiceEnv = z.output<typeof EnvSchema>;

export interface SluiceConfig extends SluiceEnv {
  storeDir: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SluiceConfig {
  const parsed = EnvSchema.safeParse(env);
  // zod's messages name the variable and the rule, never the value (which may be a key).
  if (!parsed.success) throw configErrorFromZod(parsed.error);
  const cfg = parsed.data;
  return { ...cfg, storeDir: path.resolve(cfg.SLUICE_STORE_DIR ?? path.join(cfg.SLUICE_STATE_DIR, 'store')) };
}
