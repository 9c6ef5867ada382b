/** What every command that talks to Temporal needs: validated config, a client, the store. */
import { Client, Connection } from '@temporalio/client';
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
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS, connectTimeout: 5_000 });
  // The same store and payload codec as the workers: the CLI uploads inputs and reads outputs.
  const store = createStore(config);
  return {
    config,
    client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: dataConverterFromEnv(env) }),
    store,
    close: async () => {
      await connection.close();
      await store.close();
    },
    uiLink: (workflowId) => uiLink(config.SLUICE_WEB_UI, config.TEMPORAL_NAMESPACE, workflowId),
  };
}

export { uiLink };
