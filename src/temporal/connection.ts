/**
 * How every Sluice process reaches Temporal: Temporal's own environment configuration (@temporalio/envconfig), so
 * the settings the `temporal` CLI reads work here too: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH / _SERVER_CA_CERT_PATH (or _DATA), TEMPORAL_TLS_SERVER_NAME,
 * TEMPORAL_PROFILE and profiles in temporal.toml (TEMPORAL_CONFIG_FILE, else the user config directory's
 * temporalio/temporal.toml). Environment variables override the profile. Errors name the setting, never its value.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError } from '../domain/errors';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';
const HOST_PORT = /^[^\s:/]+:\d{1,5}$/;

/** What Connection.connect (client) and NativeConnection.connect (worker) both accept. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  options: TemporalConnectionOptions;
  /** For log lines: address, namespace, how it authenticates. No secret. */
  description: string;
}

/** The TLS settings that name files, with the environment variable and the profile key of each. */
const TLS_FILES = [
  { env: 'TEMPORAL_TLS_CLIENT_CERT_PATH', key: 'clientCert' },
  { env: 'TEMPORAL_TLS_CLIENT_KEY_PATH', key: 'clientKey' },
  { env: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', key: 'serverCACert' },
] as const;
const TOML_KEY: Record<(typeof TLS_FILES)[number]['key'], string> = {
  clientCert: 'client_cert_path',
  clientKey: 'client_key_path',
  serverCACert: 'server_ca_cert_path',
};

export function loadTemporalConnection(env: NodeJS.ProcessEnv = process.env): TemporalConnectionSettings {
  const vars = definedStrings(env);
  const profileName = vars.TEMPORAL_PROFILE ?? 'default';
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: vars });
  } catch (err) {
    throw profileError(err, vars, profileName);
  }
  const address = profile.address ?? DEFAULT_TEMPORAL_ADDRESS;
  const addressSetting = vars.TEMPORAL_ADDRESS !== undefined ? 'TEMPORAL_ADDRESS' : `profile ${profileName}: address`;
  if (!HOST_PORT.test(address)) throw new ConfigError(addressSetting, 'must be host:port, e.g. 127.0.0.1:7233');
  if (profile.apiKey === '') throw new ConfigError('TEMPORAL_API_KEY', 'is empty: unset it or give the key');

  for (const f of TLS_FILES) {
    const source = profile.tls?.[f.key];
    if (!source || !('path' in source)) continue;
    const setting = vars[f.env] !== undefined ? f.env : `profile ${profileName}: tls.${TOML_KEY[f.key]}`;
    try {
      accessSync(source.path, fsConstants.R_OK);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'names a file that does not exist' : 'names a file this process cannot read';
      throw new ConfigError(setting, `${why}: fix the path or its permissions`);
    }
  }
  const cert = profile.tls?.clientCert;
  const key = profile.tls?.clientKey;
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError(cert ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'is missing: mTLS needs both the client certificate and its key');
  }

  let connect: ReturnType<typeof toClientOptions>;
  try {
    connect = toClientOptions(profile);
  } catch (err) {
    throw new ConfigError('TEMPORAL_TLS', `cannot be loaded (${(err as Error).message})`);
  }
  const o = connect.connectionOptions;
  const options: TemporalConnectionOptions = { address };
  if (o.tls !== undefined) options.tls = o.tls as TLSConfig | boolean;
  if (o.apiKey !== undefined) options.apiKey = o.apiKey;
  if (profile.grpcMeta) options.metadata = profile.grpcMeta;
  const namespace = connect.namespace ?? DEFAULT_TEMPORAL_NAMESPACE;
  return { address, namespace, options, description: describe(address, namespace, options) };
}

function describe(address: string, namespace: string, o: TemporalConnectionOptions): string {
  const tls = o.tls === undefined || o.tls === false ? 'no TLS' : typeof o.tls === 'object' && o.tls.clientCertPair ? 'mTLS' : 'TLS';
  return `${address}, namespace ${namespace} (${tls}${o.apiKey ? ', API key' : ''})`;
}

function profileError(err: unknown, vars: Record<string, string>, profileName: string): ConfigError {
  const message = err instanceof Error ? err.message : String(err);
  const file = vars.TEMPORAL_CONFIG_FILE !== undefined ? 'TEMPORAL_CONFIG_FILE' : 'temporal.toml';
  if (/Profile '.*' not found/.test(message)) {
    return new ConfigError('TEMPORAL_PROFILE', `names profile "${profileName}", which ${file} does not have`);
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EISDIR') return new ConfigError(file, 'cannot be read: fix its permissions or point TEMPORAL_CONFIG_FILE elsewhere');
  // smol-toml's messages say where (line, column) but quote no value.
  return new ConfigError(file, `is not valid TOML: ${message.split('\n')[0]}`, { cause: err });
}

function definedStrings(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  // Compose passes unset variables as "": treat them as unset, as the rest of Sluice's configuration does.
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
