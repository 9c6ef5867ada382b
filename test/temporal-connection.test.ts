// How a connection is loaded from Temporal's environment configuration (no server needed): environment over
// profile over defaults, API keys turn TLS on, and every bad setting is named (variable or profile key), never echoed.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { loadConfig } from '../src/config';
import { ConfigError } from '../src/domain/errors';
import { loadTemporalConnection } from '../src/temporal/connection';

const SECRET = 'tmprl-SECRET-do-not-print';
let dir: string;
let toml: string;
let cert: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-envconfig-'));
  cert = path.join(dir, 'client.pem');
  await writeFile(cert, 'not really a certificate');
  await writeFile(path.join(dir, 'client.key'), 'not really a key');
  toml = path.join(dir, 'temporal.toml');
  await writeFile(
    toml,
    [
      '[profile.default]',
      'address = "default-profile.internal:7233"',
      '[profile.cloud]',
      'address = "eu-west-1.aws.api.temporal.io:7233"',
      'namespace = "sluice.a1b2c"',
      `api_key = "${SECRET}"`,
      '[profile.mtls]',
      'address = "temporal.internal:7233"',
      '[profile.mtls.tls]',
      `client_cert_path = "${cert}"`,
      `client_key_path = "${path.join(dir, 'missing.key')}"`,
      '',
    ].join('\n'),
  );
});

const fails = (env: NodeJS.ProcessEnv, field: string, reason: RegExp) => {
  assert.throws(
    () => loadTemporalConnection(env),
    (err: unknown) => err instanceof ConfigError && err.field === field && reason.test(err.reason) && !err.message.includes(SECRET),
  );
};

test('defaults without any setting: 127.0.0.1:7233, namespace default, no TLS', () => {
  const c = loadTemporalConnection({ TEMPORAL_CONFIG_FILE: path.join(dir, 'none.toml') });
  assert.deepEqual([c.address, c.namespace, c.options.tls, c.options.apiKey], ['127.0.0.1:7233', 'default', undefined, undefined]);
  assert.equal(c.description, '127.0.0.1:7233, namespace default (no TLS)');
});

test('a profile gives address, namespace and API key (which turns TLS on); the environment overrides it', () => {
  const c = loadTemporalConnection({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
  assert.deepEqual([c.address, c.namespace, c.options.apiKey, c.options.tls], ['eu-west-1.aws.api.temporal.io:7233', 'sluice.a1b2c', SECRET, true]);
  assert.ok(!c.description.includes(SECRET), 'the key is not in the description');
  assert.match(c.description, /\(TLS, API key\)$/);
  const overridden = loadTemporalConnection({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'other.a1b2c' });
  assert.equal(overridden.namespace, 'other.a1b2c');
  // The default profile is used when none is named; sluice's own config reports the resolved values.
  const cfg = loadConfig({ TEMPORAL_CONFIG_FILE: toml });
  assert.equal(cfg.TEMPORAL_ADDRESS, 'default-profile.internal:7233');
  assert.equal(cfg.TEMPORAL_NAMESPACE, 'default');
});

test('mTLS files from the environment are read; the description says mTLS', () => {
  const c = loadTemporalConnection({ TEMPORAL_ADDRESS: 'x.internal:7233', TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'client.key') });
  assert.ok(typeof c.options.tls === 'object' && c.options.tls.clientCertPair);
  assert.equal(Buffer.from(c.options.tls.clientCertPair.crt).toString(), 'not really a certificate');
  assert.match(c.description, /\(mTLS\)$/);
});

test('bad settings are named: the variable, or the profile and its key', () => {
  fails({ TEMPORAL_ADDRESS: 'temporal.internal' }, 'TEMPORAL_ADDRESS', /^must be host:port/);
  fails({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'mtls' }, 'profile mtls: tls.client_key_path', /^names a file that does not exist/);
  fails({ TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'nope.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: cert }, 'TEMPORAL_TLS_CLIENT_CERT_PATH', /^names a file that does not exist/);
  fails({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert }, 'TEMPORAL_TLS_CLIENT_KEY_PATH', /^is missing: mTLS needs both/);
  fails({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' }, 'TEMPORAL_PROFILE', /^names profile "staging", which TEMPORAL_CONFIG_FILE does not have$/);
});

test('a temporal.toml that is not TOML is named, without quoting its content', async () => {
  const broken = path.join(dir, 'broken.toml');
  await writeFile(broken, `[profile.default\napi_key = "${SECRET}"\n`);
  fails({ TEMPORAL_CONFIG_FILE: broken }, 'TEMPORAL_CONFIG_FILE', /^is not valid TOML/);
});
