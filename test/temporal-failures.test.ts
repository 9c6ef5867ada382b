// What the CLI says when Temporal answers "not set up" or "not allowed" (pure: the errors are shaped as the client
// SDK raises them, a ServiceError whose cause carries the gRPC status). The real server's answers for a missing
// search attribute and namespace are checked end to end in test/temporal-tls.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceError } from '@temporalio/client';
import { explainTemporalFailure } from '../src/temporal/failures';

const grpc = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

test('a refused API key or certificate names TEMPORAL_API_KEY and the client certificate, exit 1', () => {
  for (const code of [16, 7]) {
    const err = new ServiceError('Failed to start Workflow', { cause: grpc(code, 'Request unauthorized.') });
    const e = explainTemporalFailure(err, 'sluice.a1b2c');
    assert.equal(e?.exitCode, 1);
    assert.match(e.line, /^Temporal refused the credentials: check TEMPORAL_API_KEY \(or the mTLS client certificate, TEMPORAL_TLS_CLIENT_CERT_PATH\)/);
  }
});

test('a missing search attribute names it and `sluice setup`, exit 1; a missing namespace names TEMPORAL_NAMESPACE, exit 2', () => {
  const attr = explainTemporalFailure(
    new ServiceError('Failed to start Workflow', { cause: grpc(3, 'Namespace default has no mapping defined for search attribute SluicePhase') }),
    'default',
  );
  assert.deepEqual(attr, { line: 'Namespace "default" lacks Sluice\'s search attribute SluicePhase: run `sluice setup` once against this cluster', exitCode: 1 });
  const ns = explainTemporalFailure(new ServiceError('Failed', { cause: grpc(5, 'Namespace nope is not found.') }), 'nope');
  assert.equal(ns?.exitCode, 2);
  assert.match(ns.line, /^TEMPORAL_NAMESPACE: namespace "nope" does not exist/);
});

test('other failures are left to the caller', () => {
  assert.equal(explainTemporalFailure(new ServiceError('Failed', { cause: grpc(14, 'connection refused') }), 'default'), undefined);
  assert.equal(explainTemporalFailure(new Error('something else'), 'default'), undefined);
});
