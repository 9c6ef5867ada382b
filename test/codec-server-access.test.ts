// Who may call the codec server: a token unless --no-auth, the Host header and the Origin against allow-lists
// (DNS rebinding and foreign pages), never '*' with credentials, loopback unless told otherwise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec, parseCodecKeys } from '../src/codec';
import { payloadToJson, startCodecServer, type CodecServerHandle } from '../src/codec/codec-server';

const UI_ORIGIN = 'http://localhost:8233';
const TOKEN = 'a-long-enough-codec-token';
const keys = parseCodecKeys(`k1:${randomBytes(32).toString('base64')}`);
const codec = new AesGcmCodec(keys);

/** A raw HTTP call, so the Host header can be what a rebinding page would send (fetch forbids setting it). */
function call(port: number, headers: Record<string, string>, body: string): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/decode', method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('codec server access', () => {
  let server: CodecServerHandle;
  let body: string;
  before(async () => {
    server = await startCodecServer({ codec, port: 0, allowedOrigins: [UI_ORIGIN], allowedHosts: ['codec.internal'], token: TOKEN, log: () => {} });
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload({ prompt: 'secret' })]);
    body = JSON.stringify({ payloads: [payloadToJson(encrypted!)] });
  });
  after(() => server.close());
  const good = () => ({ Host: `localhost:${server.port}`, Origin: UI_ORIGIN, Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' });

  test('the UI, addressed by a loopback name or an allowed host, with the token, decodes', async () => {
    assert.equal((await call(server.port, good(), body)).status, 200);
    assert.equal((await call(server.port, { ...good(), Host: `127.0.0.1:${server.port}` }, body)).status, 200);
    assert.equal((await call(server.port, { ...good(), Host: `codec.internal:${server.port}` }, body)).status, 200);
  });

  test('a rebinding page (a foreign Host) is refused before the token is even looked at', async () => {
    const r = await call(server.port, { ...good(), Host: `evil.example:${server.port}` }, body);
    assert.equal(r.status, 403);
    assert.match(r.text, /Host is not allowed/);
    assert.doesNotMatch(r.text, /secret/);
  });

  test('a foreign Origin is refused on POST too (not only on the preflight), with no CORS headers', async () => {
    const r = await call(server.port, { ...good(), Origin: 'http://evil.example' }, body);
    assert.equal(r.status, 403);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });

  test('no token or a wrong one: 401', async () => {
    const { Authorization: _, ...noToken } = good();
    assert.equal((await call(server.port, noToken, body)).status, 401);
    assert.equal((await call(server.port, { ...good(), Authorization: 'Bearer wrong-token-of-some-length' }, body)).status, 401);
  });

  test('listens on loopback by default', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('codec server options that would leave it open are refused', () => {
  test('no token and no noAuth', async () => {
    await assert.rejects(startCodecServer({ codec, port: 0, log: () => {} }), /token: a bearer token is required/);
  });
  test("'*' as an allowed origin", async () => {
    await assert.rejects(startCodecServer({ codec, port: 0, token: TOKEN, allowedOrigins: ['*'] }), /'\*' is refused/);
  });
  test('an origin that is not an origin', async () => {
    await assert.rejects(startCodecServer({ codec, port: 0, token: TOKEN, allowedOrigins: ['http://localhost:8233/ui'] }), /not an origin/);
  });
});

describe('sluice codec-server access flags', () => {
  const script = path.join(__dirname, 'fixtures', 'codec-server-cli.ts');
  const keyText = `k1:${keys[0]!.key.toString('base64')}`;
  const run = (env: NodeJS.ProcessEnv, args: string[]) =>
    spawn(process.execPath, ['--import', 'tsx', script, 'codec-server', '--port', '0', ...args], {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, SLUICE_CODEC_KEYS: keyText, SLUICE_CODEC_SERVER_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const outputOf = async (child: ReturnType<typeof run>, until: RegExp) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const deadline = Date.now() + 20_000;
    while (!until.test(out) && child.exitCode === null && Date.now() < deadline) await sleep(100);
    return () => out;
  };

  test('without a token it refuses to start, naming the variable and --no-auth (exit 2)', { timeout: 30_000 }, async () => {
    const child = run({}, []);
    const out = await outputOf(child, /$^/);
    const [code] = (await once(child, 'exit').catch(() => [child.exitCode])) as [number | null];
    assert.equal(code ?? child.exitCode, 2);
    assert.match(out(), /SLUICE_CODEC_SERVER_TOKEN: a bearer token is required .*--no-auth/);
  });

  test("'*' is refused naming --allow-origin", { timeout: 30_000 }, async () => {
    const child = run({ SLUICE_CODEC_SERVER_TOKEN: TOKEN }, ['--allow-origin', '*']);
    const out = await outputOf(child, /$^/);
    if (child.exitCode === null) await once(child, 'exit');
    assert.equal(child.exitCode, 2);
    assert.match(out(), /--allow-origin: '\*' is refused/);
  });

  test('a public interface with --no-auth starts with both warnings', { timeout: 30_000 }, async () => {
    const child = run({}, ['--no-auth', '--host', '0.0.0.0']);
    const out = await outputOf(child, /codec server on/);
    child.kill('SIGTERM');
    await once(child, 'exit');
    assert.match(out(), /Warning: --no-auth/);
    assert.match(out(), /Warning: --host 0\.0\.0\.0 is not a loopback address: other machines can reach this server, with no token/);
  });
});
