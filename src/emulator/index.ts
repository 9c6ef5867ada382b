/**
 * A local emulator of Anthropic's Message Batches API (and POST /v1/messages) for development and tests.
 * Point the official SDK at it: `new Anthropic({ apiKey: handle.apiKey, baseURL: handle.url })`.
 *
 * It is NOT the real API: messages are synthetic, time is simulated (see time.ts) and faults are injected on
 * purpose (see config.ts).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { EmulatorConfig, EmulatorOptions } from './config';
import { parseEmulatorOptions } from './config';
import { FaultInjector } from './faults';
import type { Services } from './handlers';
import type { PersistedState } from './persistence';
import { loadState, STATE_VERSION, StateSaver } from './persistence';
import { createEmulatorServer } from './server';
import type { EmulatorStats } from './stats';
import { StatsRecorder } from './stats';
import { BatchStore } from './store';
import { NominalClock } from './time';

export type { EmulatorConfig, EmulatorOptions, Endpoint, ErrorType } from './config';
export { ENDPOINTS, ERROR_TYPES, parseEmulatorOptions } from './config';
export type { EmulatorStats, CreateLogEntry } from './stats';
export { SYNC_CUSTOM_ID_HEADER } from './handlers';

export interface EmulatorHandle {
  /** Origin to use as the SDK's baseURL, e.g. `http://127.0.0.1:4010` (no trailing slash, no /v1). */
  url: string;
  port: number;
  /** The only x-api-key accepted. */
  apiKey: string;
  /** The options after defaults. */
  config: EmulatorConfig;
  /** Same as GET /_emulator/stats. */
  stats(): EmulatorStats;
  /** Same as POST /_emulator/reset: forgets every batch, zeroes the stats, restarts the fault streams. */
  reset(): void;
  /**
   * Moves the emulator's clock forward by `nominalMs` (same as POST /_emulator/advance {"ms": n}). With
   * timeScale 1 the clock then barely moves by itself, so tests can step through states exactly.
   */
  advance(nominalMs: number): void;
  /** Stops listening, drops open connections and writes the state file (if any). */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function originFor(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const config = parseEmulatorOptions(options);
  const saved = config.statePath ? await loadState(config.statePath) : null;
  const realNowMs = Date.now();
  const clock = new NominalClock(config.timeScale, saved?.clock ?? { realMs: realNowMs, nominalMs: realNowMs });
  const store = new BatchStore(config, clock);
  const stats = new StatsRecorder();
  const faults = new FaultInjector(config.faults, config.seed);
  if (saved) {
    store.restore(saved.batches, saved.seq);
    stats.restore(saved.stats);
    for (const batch of saved.batches) stats.rememberDigests(batch.requests);
  }

  const snapshot = (): PersistedState => ({
    version: STATE_VERSION,
    clock: clock.snapshot(),
    seq: store.lastSeq,
    batches: [...store.all()],
    stats: stats.snapshot(),
  });
  const saver = config.statePath ? new StateSaver(config.statePath, config.saveDebounceMs, snapshot) : null;
  const services: Services = { config, clock, store, stats, faults, changed: () => saver?.schedule() };
  const reset = (): void => {
    store.clear();
    stats.reset();
    faults.reset();
    saver?.schedule();
  };

  const advance = (nominalMs: number): void => {
    if (!(nominalMs >= 0)) throw new RangeError(`advance: nominalMs must be >= 0, got ${nominalMs}`);
    clock.advance(nominalMs);
    saver?.schedule();
  };

  const server = createEmulatorServer(services, { stats: () => stats.snapshot(), reset, advance });
  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;

  return {
    url: originFor(config.host, port),
    port,
    apiKey: config.apiKey,
    config,
    stats: () => stats.snapshot(),
    reset,
    advance,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await saver?.flush();
    },
  };
}
