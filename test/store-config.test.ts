// Choosing the store from the environment: SLUICE_STORE (a PostgreSQL URL) or SLUICE_STORE_DIR (a directory).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config';
import { ConfigError } from '../src/domain/errors';
import { createStore, LocalDirectoryStore, PostgresStore } from '../src/store';

test('without SLUICE_STORE the store is the local directory', async () => {
  const cfg = loadConfig({ SLUICE_STORE_DIR: '/tmp/sluice-x' });
  assert.deepEqual(cfg.store, { kind: 'local', dir: path.resolve('/tmp/sluice-x') });
  const store = createStore(cfg);
  assert.ok(store instanceof LocalDirectoryStore);
  assert.equal(store.description, `directory ${path.resolve('/tmp/sluice-x')}`);
  await store.close();

  assert.equal(loadConfig({ SLUICE_STATE_DIR: '/tmp/state', SLUICE_STORE: '' }).store.kind, 'local', 'empty counts as unset');
});

test('a postgres:// URL in SLUICE_STORE selects PostgreSQL', async () => {
  for (const url of ['postgres://sluice:pw@db:5432/sluice', 'postgresql://db/sluice', 'postgres:///sluice?host=/var/run/postgresql']) {
    const cfg = loadConfig({ SLUICE_STORE: url, SLUICE_STORE_CONNECTIONS: '6' });
    assert.deepEqual(cfg.store, { kind: 'postgres', url, maxConnections: 6 });
    const store = createStore(cfg);
    assert.ok(store instanceof PostgresStore, url);
    await store.close(); // no connection is opened before the first operation
  }
});

test('a bad SLUICE_STORE is named, with the rule and an example, never the value', () => {
  const secret = 's3cr3t-password';
  const cases: [string, RegExp][] = [
    [`mysql://root:${secret}@db/sluice`, /must start with postgres:\/\/ or postgresql:\/\//],
    [`db.internal:5432/${secret}`, /must start with postgres:\/\/|is not a URL/],
    [`not a url ${secret}`, /is not a URL/],
    [`postgres://user:${secret}@db.internal:5432`, /names no database/],
    [`postgres://user:${secret}@db.internal:5432/`, /names no database/],
  ];
  for (const [value, reason] of cases) {
    assert.throws(
      () => loadConfig({ SLUICE_STORE: value }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, value);
        assert.equal(err.field, 'SLUICE_STORE');
        assert.match(err.message, reason);
        assert.match(err.message, /postgres:\/\/sluice:secret@db\.internal:5432\/sluice|postgres:\/\//);
        assert.ok(!err.message.includes(secret), 'the value (it may hold a password) is not repeated');
        return true;
      },
    );
  }
});

test('SLUICE_STORE and SLUICE_STORE_DIR together are refused', () => {
  assert.throws(
    () => loadConfig({ SLUICE_STORE: 'postgres://db/sluice', SLUICE_STORE_DIR: '/data' }),
    (err: unknown) => err instanceof ConfigError && /both set/.test(err.message),
  );
});

test('SLUICE_STORE_CONNECTIONS must be at least 2', () => {
  assert.throws(() => loadConfig({ SLUICE_STORE_CONNECTIONS: '1' }), /SLUICE_STORE_CONNECTIONS/);
});
