/**
 * `sluice emulator`: runs the Message Batches API emulator until SIGINT/SIGTERM.
 *
 *   sluice emulator --port 4010 --time-scale 0.001 --seed 7 --api-key K --state .sluice/emulator.json
 *
 * Flags (all optional):
 *   --port <n>               TCP port (default 4010; 0 = any free port)
 *   --host <host>            interface to bind (default 127.0.0.1)
 *   --api-key <key>          the only key accepted (default sk-emulator)
 *   --time-scale <x>         real ms = nominal ms × x (default 1; 0.001 makes 24 h last 86.4 s)
 *   --seed <n>               seeds latencies, result fates, faults and result order (default 1)
 *   --state <file>           JSON file to save batches to and reload them from
 *   --live-counts            request_counts move while in progress (observed) instead of the documented rule
 *   --cancel-delay-ms <ms>   nominal ms from cancel to ended (default 25000)
 *   --window-ms <ms>         nominal ms until a batch expires (default 86400000)
 *   --results-retention-ms <ms>  nominal ms from create until results are archived and 404 (default 29 days)
 *   --latency <json>         e.g. '{"batch":{"kind":"fixed","ms":60000},"spread":0.9}' (see src/emulator/config.ts)
 *   --faults <json>          the full faults object of src/emulator/config.ts, e.g.
 *                            '{"rateLimit":{"rate":0.1,"endpoints":["create"]},"resultErrors":{"api_error":0.01}}'
 *   --fault-rate-429 <r>     shortcuts over --faults, applied to every endpoint: 429 rate_limit_error,
 *   --fault-rate-500 <r>       500 api_error, 529 overloaded_error, 504 timeout_error,
 *   --fault-rate-529 <r>       connection resets,
 *   --fault-rate-504 <r>
 *   --fault-rate-reset <r>
 *   --retry-after <s>        retry-after seconds sent with 429s (default 1)
 */
import type { Command } from 'commander';
import type { EmulatorHandle, EmulatorOptions } from '../../emulator';

export interface EmulatorCommandOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  timeScale?: number;
  seed?: number;
  state?: string;
  liveCounts?: boolean;
  cancelDelayMs?: number;
  windowMs?: number;
  resultsRetentionMs?: number;
  /** JSON text of `latency`. */
  latency?: string;
  /** JSON text of `faults`. */
  faults?: string;
  faultRate429?: number;
  faultRate500?: number;
  faultRate529?: number;
  faultRate504?: number;
  faultRateReset?: number;
  retryAfter?: number;
}

export const DEFAULT_EMULATOR_PORT = 4010;

function parseJsonFlag(flag: string, text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${flag} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${flag} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Flags → emulator options (validated later by startEmulator). Pure. */
export function toEmulatorOptions(opts: EmulatorCommandOptions): EmulatorOptions {
  const faults: Record<string, unknown> = { ...parseJsonFlag('--faults', opts.faults) };
  const shortcut = (key: string, rate: number | undefined, extra: Record<string, unknown> = {}): void => {
    if (rate === undefined) return;
    const current = (faults[key] ?? {}) as Record<string, unknown>;
    faults[key] = { ...current, ...extra, rate };
  };
  shortcut('rateLimit', opts.faultRate429, opts.retryAfter === undefined ? {} : { retryAfterSeconds: opts.retryAfter });
  shortcut('apiError', opts.faultRate500);
  shortcut('overloaded', opts.faultRate529);
  shortcut('timeout', opts.faultRate504);
  shortcut('connectionReset', opts.faultRateReset);

  // Undefined fields take the emulator's defaults; zod validates everything at start.
  return {
    port: opts.port ?? DEFAULT_EMULATOR_PORT,
    host: opts.host,
    apiKey: opts.apiKey,
    timeScale: opts.timeScale,
    seed: opts.seed,
    statePath: opts.state,
    liveCounts: opts.liveCounts,
    cancelDelayMs: opts.cancelDelayMs,
    windowMs: opts.windowMs,
    resultsRetentionMs: opts.resultsRetentionMs,
    latency: parseJsonFlag('--latency', opts.latency),
    faults: Object.keys(faults).length > 0 ? faults : undefined,
  };
}

function banner(handle: EmulatorHandle): string {
  const day = (86_400_000 * handle.config.timeScale) / 1000;
  return [
    '',
    '  ===============================================================================',
    '  ==  SLUICE EMULATOR - this is NOT the Anthropic API. Replies are synthetic.  ==',
    '  ===============================================================================',
    `  url:        ${handle.url}`,
    `  api key:    ${handle.apiKey}`,
    `  time scale: ${handle.config.timeScale} (24 h nominal = ${day.toLocaleString('en')} s real)`,
    `  seed:       ${handle.config.seed}${handle.config.statePath ? `\n  state:      ${handle.config.statePath}` : ''}`,
    `  use:        ANTHROPIC_BASE_URL=${handle.url} ANTHROPIC_API_KEY=${handle.apiKey}`,
    `  admin:      GET ${handle.url}/_emulator/stats   POST ${handle.url}/_emulator/reset`,
    '',
  ].join('\n');
}

function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function emulatorCommand(opts: EmulatorCommandOptions): Promise<void> {
  const { startEmulator } = await import('../../emulator/index.js'); // loaded only for this command
  const handle = await startEmulator(toEmulatorOptions(opts));
  process.stdout.write(`${banner(handle)}\n`);
  const signal = await nextStopSignal();
  process.stdout.write(`\n  ${signal}: stopping the emulator...\n`);
  await handle.close();
  process.stdout.write('  emulator stopped\n');
}

function number(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new Error(`not a number: ${value}`);
  return parsed;
}

/** Adds `emulator` with its options to a commander program. */
export function registerEmulatorCommand(program: Command): Command {
  return program
    .command('emulator')
    .description('Run a local EMULATOR of the Message Batches API (synthetic replies, simulated time, injected faults)')
    .option('--port <n>', `TCP port, 0 = any free port (default ${DEFAULT_EMULATOR_PORT})`, number)
    .option('--host <host>', 'interface to bind (default 127.0.0.1)')
    .option('--api-key <key>', 'the only API key accepted (default sk-emulator)')
    .option('--time-scale <x>', 'real ms = nominal ms × x, e.g. 0.001 (default 1)', number)
    .option('--seed <n>', 'seed of every random draw (default 1)', number)
    .option('--state <file>', 'JSON file to save and reload batches')
    .option('--live-counts', 'request_counts move while in progress (observed behaviour)')
    .option('--cancel-delay-ms <ms>', 'nominal ms from cancel to ended (default 25000)', number)
    .option('--window-ms <ms>', 'nominal ms until a batch expires (default 86400000)', number)
    .option('--results-retention-ms <ms>', 'nominal ms from create until results are archived (default 2505600000, 29 days)', number)
    .option('--latency <json>', 'latency model as JSON (see src/emulator/config.ts)')
    .option('--faults <json>', 'faults as JSON (see src/emulator/config.ts)')
    .option('--fault-rate-429 <rate>', 'share of calls answered 429 rate_limit_error', number)
    .option('--fault-rate-500 <rate>', 'share of calls answered 500 api_error', number)
    .option('--fault-rate-529 <rate>', 'share of calls answered 529 overloaded_error', number)
    .option('--fault-rate-504 <rate>', 'share of calls answered 504 timeout_error', number)
    .option('--fault-rate-reset <rate>', 'share of calls whose connection is reset', number)
    .option('--retry-after <seconds>', 'retry-after sent with 429s (default 1)', number)
    .action((opts: EmulatorCommandOptions) => emulatorCommand(opts));
}
