/** What every command that talks to Temporal needs: validated config, a client, the store. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { connectSluiceClient, type SluiceClient } from '../client/connect';
import type { PatienceOptions } from '../client/query-patience';
import { loadConfig, type SluiceConfig } from '../config';
import { DEV_STACK_FILE, type DevStackRecord } from '../dev/stack-record';
import { uiLink } from '../domain/web-ui';
import { createStore, type ClosableBlobStore } from '../store';
import { CannotReachTemporalError } from './errors';
import { forTerminal } from './terminal-text';

export interface CliContext {
  config: SluiceConfig;
  client: Client;
  store: ClosableBlobStore;
  close(): Promise<void>;
  uiLink(workflowId: string): string;
  /** For queries: ask again for SLUICE_QUERY_PATIENCE_MS while no worker answers, saying so once on stderr. */
  patience: PatienceOptions;
}

/**
 * The environment with what a running `sluice dev` recorded filled in where the user set nothing: its address
 * (when it runs on another port) and its Web UI (so printed links use the port in use, not 8233).
 */
export function withDevStackDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const stateDir = env.SLUICE_STATE_DIR || '.sluice';
  let record: DevStackRecord;
  try {
    record = JSON.parse(readFileSync(path.join(stateDir, DEV_STACK_FILE), 'utf8')) as DevStackRecord;
  } catch {
    return env;
  }
  if (!isAlive(record.pid)) return env;
  const address = env.TEMPORAL_ADDRESS || record.temporalAddress;
  const sameServer = address === record.temporalAddress;
  return {
    ...env,
    TEMPORAL_ADDRESS: address,
    SLUICE_WEB_UI: env.SLUICE_WEB_UI || (sameServer ? record.webUi : undefined),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function openContext(env: NodeJS.ProcessEnv = process.env): Promise<CliContext> {
  const effective = withDevStackDefaults(env);
  const config = loadConfig(effective);
  let sluice: SluiceClient;
  try {
    sluice = await connectSluiceClient(effective, config.temporal);
  } catch (err) {
    throw new CannotReachTemporalError(config.TEMPORAL_ADDRESS, err);
  }
  // The same store and payload codec as the workers: the CLI uploads inputs and reads outputs.
  const store = createStore(config);
  return {
    config,
    client: sluice.client,
    store,
    close: async () => {
      await sluice.close();
      await store.close();
    },
    uiLink: (workflowId) => uiLink(config.SLUICE_WEB_UI, config.TEMPORAL_NAMESPACE, workflowId),
    patience: { patienceMs: config.SLUICE_QUERY_PATIENCE_MS, log: (line) => console.error(forTerminal(line)) },
  };
}

export { uiLink };
