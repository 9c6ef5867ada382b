/** What every command that talks to Temporal needs: validated config, a client, the store. */
import type { Client } from '@temporalio/client';
import { connectSluiceClient } from '../client/connect';
import { loadConfig, type SluiceConfig } from '../config';
import { dataConverterFromEnv } from '../codec';
import { uiLink } from '../domain/web-ui';
import { createStore, type ClosableBlobStore } from '../store';

export interface CliContext {
  config: SluiceConfig;
  client: Client;
  store: ClosableBlobStore;
  close(): Promise<void>;
  uiLink(workflowId: string): string;
}

export async function openContext(env: NodeJS.ProcessEnv = process.env): Promise<CliContext> {
  const config = loadConfig(env);
  const sluice = await connectSluiceClient(env, config.temporal);
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
  };
}

export { uiLink };
