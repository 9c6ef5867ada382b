/**
 * A Temporal client for code that starts and watches Sluice jobs, connected the way the `temporal` CLI is
 * (Temporal's environment configuration: address, namespace, API key, TLS, profiles; src/temporal/connection.ts)
 * and with Sluice's payload codec when SLUICE_CODEC_KEYS is set.
 *
 *   const { client, close } = await connectSluiceClient();
 */
import { Client, Connection } from '@temporalio/client';
import { dataConverterFromEnv } from '../codec';
import { loadTemporalConnection, type TemporalConnectionSettings } from '../temporal/connection';

export interface SluiceClient {
  client: Client;
  connection: Connection;
  settings: TemporalConnectionSettings;
  close(): Promise<void>;
}

export async function connectSluiceClient(
  env: NodeJS.ProcessEnv = process.env,
  settings: TemporalConnectionSettings = loadTemporalConnection(env),
): Promise<SluiceClient> {
  const connection = await Connection.connect({ ...settings.options, connectTimeout: 5_000 });
  const client = new Client({ connection, namespace: settings.namespace, dataConverter: dataConverterFromEnv(env) });
  return { client, connection, settings, close: () => connection.close() };
}
