// The codec server over HTTP, with requests shaped as the Temporal Web UI sends them: CORS preflight from the UI's
// origin, POST /decode and /encode of {"payloads": [...]} with base64 metadata and data, an optional bearer token.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec, parseCodecKeys } from '../src/codec';
import {
  payloadFromJson,
  payloadToJson,
  startCodecServer,
  type CodecServerHandle,
  type JsonPayload,
} from '../src/codec/codec-server';

const UI_ORIGIN = 'http://localhost:8233';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const keys = parseCodecKeys(`k1:${randomBytes(32).toString('base64')}`);

// What the UI posts for a workflow input {"jobId":"sluice-job-x","batch":"msgbatch_01abc"}.
const uiPayloads: JsonPayload[] = [
  { metadata: { encoding: b64('json/plain') }, data: b64('{"jobId":"sluice-job-x","batch":"msgbatch_01abc"}') },
  { metadata: { encoding: b64('binary/null') } },
];

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: UI_ORIGIN, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { res, json: (await res.json()) as { payloads?: JsonPayload[]; error?: string } };
}

describe('the codec server', () => {
  let server: CodecServerHandle;
  before(async () => {
    server = await startCodecServer({ codec: new AesGcmCodec(keys), port: 0, allowedOrigins: [UI_ORIGIN], noAuth: true, log: () => {} });
  });
  after(() => server.close());

  test('encode then decode gives the UI its payloads back; encode hides them', async () => {
    const encoded = await post(`${server.url}/encode`, { payloads: uiPayloads });
    assert.equal(encoded.res.status, 200);
    assert.equal(encoded.res.headers.get('access-control-allow-origin'), UI_ORIGIN);
    assert.equal(encoded.res.headers.get('content-type'), 'application/json');
    const stored = encoded.json.payloads!;
    assert.equal(stored.length, 2);
    for (const p of stored) {
      assert.equal(Buffer.from(p.metadata!.encoding!, 'base64').toString(), 'binary/encrypted');
      assert.equal(Buffer.from(p.metadata!['encryption-key-id']!, 'base64').toString(), 'k1');
      assert.ok(!Buffer.from(p.data!, 'base64').toString().includes('sluice-job-x'));
    }

    const decoded = await post(`${server.url}/decode`, { payloads: stored });
    assert.equal(decoded.res.status, 200);
    assert.deepEqual(decoded.json.payloads, [
      uiPayloads[0],
      { metadata: uiPayloads[1]!.metadata, data: '' },
    ]);
  });

  test('decodes what a worker encrypted (same keys), and passes plain payloads through', async () => {
    const workerCodec = new AesGcmCodec(keys);
    const [encrypted] = await workerCodec.encode([defaultPayloadConverter.toPayload({ jobId: 'from-a-worker' })]);
    const plain = payloadToJson(defaultPayloadConverter.toPayload('not encrypted'));
    const { res, json } = await post(`${server.url}/decode`, { payloads: [payloadToJson(encrypted!), plain] });
    assert.equal(res.status, 200);
    assert.deepEqual(defaultPayloadConverter.fromPayload(payloadFromJson(json.payloads![0]!)), { jobId: 'from-a-worker' });
    assert.deepEqual(json.payloads![1], plain);
  });

  test('a path prefix works (the UI appends /decode to the endpoint it is given)', async () => {
    const { res } = await post(`${server.url}/codec/decode`, { payloads: [] });
    assert.equal(res.status, 200);
  });

  test("CORS preflight: the UI's origin may call, others may not", async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: UI_ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), UI_ORIGIN);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /x-namespace/i);

    const foreign = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });

  test('bad requests get clear errors', async () => {
    assert.equal((await post(`${server.url}/decode`, 'not json')).res.status, 400);
    const shape = await post(`${server.url}/decode`, { payload: [] });
    assert.equal(shape.res.status, 400);
    assert.match(shape.json.error!, /expected \{"payloads"/);

    const unknownKey = new AesGcmCodec(parseCodecKeys(`other:${randomBytes(32).toString('base64')}`));
    const [foreign] = await unknownKey.encode([defaultPayloadConverter.toPayload(1)]);
    const undecodable = await post(`${server.url}/decode`, { payloads: [payloadToJson(foreign!)] });
    assert.equal(undecodable.res.status, 400);
    assert.match(undecodable.json.error!, /key "other", which is not among the configured keys \(k1\)/);

    assert.equal((await fetch(`${server.url}/decode`)).status, 405);
    assert.equal((await fetch(`${server.url}/elsewhere`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });
});

describe('the codec server with a bearer token', () => {
  let server: CodecServerHandle;
  const token = 'a-long-enough-codec-token';
  before(async () => {
    server = await startCodecServer({ codec: new AesGcmCodec(keys), port: 0, allowedOrigins: [UI_ORIGIN], token, log: () => {} });
  });
  after(() => server.close());

  test('requires it on /encode and /decode, not on the preflight', async () => {
    const without = await post(`${server.url}/decode`, { payloads: uiPayloads });
    assert.equal(without.res.status, 401);
    assert.equal(without.res.headers.get('www-authenticate'), 'Bearer');
    assert.equal(without.res.headers.get('access-control-allow-origin'), UI_ORIGIN);
    assert.equal((await post(`${server.url}/decode`, { payloads: uiPayloads }, { Authorization: 'Bearer wrong' })).res.status, 401);
    const withToken = await post(`${server.url}/decode`, { payloads: uiPayloads }, { Authorization: `Bearer ${token}` });
    assert.equal(withToken.res.status, 200);
    const preflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { Origin: UI_ORIGIN } });
    assert.equal(preflight.status, 204);
  });
});

describe('sluice codec-server (the command)', () => {
  const script = path.join(__dirname, 'fixtures', 'codec-server-cli.ts');
  const run = (env: NodeJS.ProcessEnv, args: string[]) =>
    spawn(process.execPath, ['--import', 'tsx', script, 'codec-server', ...args], {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  test('serves with the keys of SLUICE_CODEC_KEYS until SIGTERM', { timeout: 30_000 }, async () => {
    const keyText = `k1:${keys[0]!.key.toString('base64')}`;
    const child = run({ SLUICE_CODEC_KEYS: keyText, SLUICE_CODEC_SERVER_TOKEN: '' }, ['--port', '0', '--allow-origin', UI_ORIGIN, '--no-auth']);
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const deadline = Date.now() + 20_000;
    let url: string | undefined;
    while (!(url = /codec server on (http:\/\/\S+)/.exec(out)?.[1])) {
      if (child.exitCode !== null || Date.now() > deadline) assert.fail(`the codec server did not start:\n${out}`);
      await sleep(100);
    }
    assert.match(out, /encrypting with key "k1"/);
    assert.match(out, /Warning: --no-auth: anyone who reaches this server can decode every payload/);
    const [encrypted] = await new AesGcmCodec(keys).encode([defaultPayloadConverter.toPayload({ ok: 1 })]);
    const { res, json } = await post(`${url}/decode`, { payloads: [payloadToJson(encrypted!)] });
    assert.equal(res.status, 200);
    assert.deepEqual(defaultPayloadConverter.fromPayload(payloadFromJson(json.payloads![0]!)), { ok: 1 });
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });

  test('refuses to start without keys, naming the variable', { timeout: 30_000 }, async () => {
    const child = run({ SLUICE_CODEC_KEYS: '' }, ['--port', '0']);
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(err, /SLUICE_CODEC_KEYS: is not set/);
  });
});
