// The worker's gRPC connection to Temporal gzips only where bytes on the wire cost more than CPU: not to a server
// on the same host (SLUICE_TEMPORAL_COMPRESSION=auto), always when asked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../src/config';
import { grpcCompressionFor } from '../src/temporal/grpc-compression';

test('auto: no gzip to a loopback address, gzip to any other host', () => {
  for (const a of ['127.0.0.1:7233', '127.8.0.2:7233', 'localhost:7233', 'LOCALHOST:7233', '[::1]:7233']) {
    assert.equal(grpcCompressionFor('auto', a), 'none', a);
  }
  for (const a of ['temporal:7233', 'temporal.example.com:7233', '10.0.0.5:7233', '[2001:db8::1]:7233', '128.0.0.1:7233']) {
    assert.equal(grpcCompressionFor('auto', a), 'gzip', a);
  }
});

test('gzip and none are kept whatever the address', () => {
  assert.equal(grpcCompressionFor('gzip', '127.0.0.1:7233'), 'gzip');
  assert.equal(grpcCompressionFor('none', 'temporal:7233'), 'none');
});

test('SLUICE_TEMPORAL_COMPRESSION defaults to auto and names itself when wrong', () => {
  assert.equal(loadConfig({}).SLUICE_TEMPORAL_COMPRESSION, 'auto');
  assert.throws(() => loadConfig({ SLUICE_TEMPORAL_COMPRESSION: 'zstd' }), /SLUICE_TEMPORAL_COMPRESSION/);
});
