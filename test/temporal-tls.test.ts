// Connections the Temporal way, against the real (full) Temporal server with mTLS on its frontend and a throwaway CA
// made here: `sluice setup`, `sluice run` and `sluice worker` load TEMPORAL_TLS_* or a temporal.toml profile through
// Temporal's environment configuration. On the same fresh cluster, the bad-input cases: a missing search attribute,
// a namespace that does not exist, an unreadable TLS file, a client without a certificate or TLS. One line each,
// naming the setting or `sluice setup`, exit 2 for a bad setting and 1 for a refusing server, no stack trace.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import pg from 'pg';
import { DEFAULT_SETUP_NAMES, setupSteps } from '../src/dev/cluster/setup-steps';
import { writeWorkflowBundle } from '../src/dev/cluster/worker-fleet';
import { freeServerPorts, runSchemaSteps, startTemporalServer, waitForNamespace, type TemporalServerHandle } from '../src/dev/cluster/temporal-cluster';
import { ensureTemporalServer } from '../src/dev/temporal-server';
import { loadTemporalConnection } from '../src/temporal/connection';
import { makeThrowawayCa, type ThrowawayCa } from './helpers/throwaway-ca';
import { writeJobInput } from './helpers/stack';

const ROOT = path.join(__dirname, '..');
const DATABASE_URL = process.env.SLUICE_TEST_DATABASE_URL;
const PREFIX = `tls${process.pid}_`;
const inCi = /^(1|true|yes)$/i.test(process.env.CI ?? '');
if (!DATABASE_URL && inCi) throw new Error('SLUICE_TEST_DATABASE_URL is not set (.ci/run exports it)');

interface CliRun {
  code: number | null;
  out: string;
}

function sluice(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, out }));
}

function assertOneLine(r: CliRun, code: number, message: RegExp, what: string) {
  assert.equal(r.code, code, `${what}:\n${r.out}`);
  assert.match(r.out, message, what);
  assert.ok(!/\n\s+at /.test(r.out), `${what}: a stack trace:\n${r.out}`);
}

describe('mTLS to the full Temporal server', { skip: DATABASE_URL ? false : 'SLUICE_TEST_DATABASE_URL is not set (scripts/start-test-postgres.sh)' }, () => {
  let ca: ThrowawayCa;
  let server: TemporalServerHandle;
  let tlsEnv: Record<string, string>;
  let input: string;
  let storeDir: string;
  const runArgs = () => ['run', input, '--detach', '--model', 'claude-haiku-4-5', '--max-tokens', '32'];
  const admin = () => {
    const u = new URL(DATABASE_URL!);
    u.pathname = '/postgres';
    return { url: u.toString(), target: { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } };
  };

  before(async () => {
    ca = await makeThrowawayCa();
    const bins = await ensureTemporalServer();
    const names = { ...DEFAULT_SETUP_NAMES, temporalDatabase: `${PREFIX}temporal`, visibilityDatabase: `${PREFIX}temporal_visibility` };
    await runSchemaSteps(bins.sqlTool, admin().target, setupSteps(names), () => {});
    const ports = await freeServerPorts('127.0.0.1');
    const address = `127.0.0.1:${ports.frontend}`;
    tlsEnv = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.caCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: ca.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: ca.clientKey,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    };
    const connect = loadTemporalConnection(tlsEnv).options;
    server = await startTemporalServer({
      binary: bins.server,
      dir: await mkdtemp(path.join(os.tmpdir(), 'sluice-tls-server-')),
      host: '127.0.0.1',
      ports,
      postgres: admin().target,
      temporalDatabase: names.temporalDatabase,
      visibilityDatabase: names.visibilityDatabase,
      tls: {
        certFile: ca.serverCert,
        keyFile: ca.serverKey,
        caFile: ca.caCert,
        requireClientAuth: true,
        serverName: 'localhost',
        systemWorkerCertFile: ca.clientCert,
        systemWorkerKeyFile: ca.clientKey,
      },
      connect,
    });
    const connection = await Connection.connect(connect);
    try {
      await connection.workflowService.registerNamespace({ namespace: 'default', workflowExecutionRetentionPeriod: msToTs('1 day') });
    } finally {
      await connection.close();
    }
    await waitForNamespace(connect, 'default');
    input = await writeJobInput(3);
    storeDir = path.dirname(input);
  });
  after(async () => {
    await server?.stop();
    const client = new pg.Client({ connectionString: admin().url });
    await client.connect();
    for (const db of ['temporal', 'temporal_visibility']) await client.query(`drop database if exists "${PREFIX}${db}" with (force)`);
    await client.end();
  });

  test('before setup: sluice run and sluice worker name the missing search attributes and `sluice setup`', { timeout: 180_000 }, async () => {
    const [run, worker] = await Promise.all([
      sluice(runArgs(), { ...tlsEnv, SLUICE_STORE_DIR: storeDir }),
      sluice(['worker'], { ...tlsEnv, SLUICE_STORE_DIR: storeDir, ANTHROPIC_API_KEY: 'sk-test' }),
    ]);
    const missing = /^Error: Namespace "default" lacks Sluice's search attributes? .*: run `sluice setup` once against this cluster$/m;
    assertOneLine(run, 1, /^Error: Namespace "default" lacks Sluice's search attribute \w+: run `sluice setup` once against this cluster$/m, 'run');
    assertOneLine(worker, 1, missing, 'worker');
    assert.match(worker.out, /SluiceJobName, SluicePhase, SluicePriority, SluiceDeadline, SluiceSlaAtRisk/);
  });

  test('sluice setup over mTLS from TEMPORAL_TLS_* registers them; again from a temporal.toml profile, it finds them', { timeout: 180_000 }, async () => {
    const first = await sluice(['setup'], tlsEnv);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /^Temporal 127\.0\.0\.1:\d+, namespace default \(mTLS\)$/m);
    assert.match(first.out, /^Namespace default: exists, retention 1 days$/m);
    assert.match(first.out, /^Search attributes registered: SluiceJobName, SluicePhase, SluicePriority, SluiceDeadline, SluiceSlaAtRisk$/m);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-toml-'));
    const toml = path.join(dir, 'temporal.toml');
    await writeFile(
      toml,
      [
        '[profile.prod]',
        `address = "${tlsEnv.TEMPORAL_ADDRESS}"`,
        'namespace = "default"',
        '[profile.prod.tls]',
        `server_ca_cert_path = "${ca.caCert}"`,
        `client_cert_path = "${ca.clientCert}"`,
        `client_key_path = "${ca.clientKey}"`,
        'server_name = "localhost"',
        '',
      ].join('\n'),
    );
    const again = await sluice(['setup'], { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /^Search attributes already there: SluiceJobName, SluicePhase, SluicePriority, SluiceDeadline, SluiceSlaAtRisk$/m);
    assert.doesNotMatch(again.out, /registered/);

    const noProfile = await sluice(['setup'], { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' });
    assertOneLine(noProfile, 2, /^Error: TEMPORAL_PROFILE: names profile "staging", which TEMPORAL_CONFIG_FILE does not have$/m, 'unknown profile');
  });

  test('a worker connected over mTLS polls, and sluice setup sees it', { timeout: 180_000 }, async () => {
    let worker: ChildProcess | undefined;
    // Prebuilt, so the worker polls within seconds even on a busy machine.
    const bundle = await writeWorkflowBundle(path.join(await mkdtemp(path.join(os.tmpdir(), 'sluice-tls-bundle-')), 'workflows.js'));
    try {
      worker = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...tlsEnv, SLUICE_STORE_DIR: storeDir, ANTHROPIC_API_KEY: 'sk-test', SLUICE_WORKFLOW_BUNDLE: bundle },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      worker.stderr!.on('data', (b: Buffer) => (out += b.toString()));
      worker.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      const deadline = Date.now() + 120_000;
      for (;;) {
        assert.ok(worker.exitCode === null, `the worker exited:\n${out}`);
        const r = await sluice(['setup'], tlsEnv);
        if (/Task queue sluice: [1-9]\d* workflow poller/.test(r.out)) break;
        assert.ok(Date.now() < deadline, `no poller seen:\n${r.out}\n${out}`);
        await new Promise((res) => setTimeout(res, 1_000));
      }
      assert.match(out, /Sluice worker on 127\.0\.0\.1:\d+, namespace default \(mTLS\)/);
    } finally {
      worker?.kill('SIGTERM');
      if (worker && worker.exitCode === null) await once(worker, 'exit');
    }
  });

  test('bad settings and refusing servers: one line each, the right exit code, nothing started', { timeout: 240_000 }, async () => {
    const unreadable = path.join(ca.dir, 'unreadable.key');
    await writeFile(unreadable, 'x');
    await chmod(unreadable, 0o000);
    const asRoot = process.getuid?.() === 0; // root reads any file: only the missing file applies then
    const cases: { what: string; args: string[]; env: Record<string, string>; code: number; message: RegExp }[] = [
      { what: 'a namespace that does not exist (setup)', args: ['setup'], env: { ...tlsEnv, TEMPORAL_NAMESPACE: 'nope' }, code: 2, message: /^Error: TEMPORAL_NAMESPACE: namespace "nope" does not exist on this cluster: .*`sluice setup`$/m },
      { what: 'a namespace that does not exist (run)', args: runArgs(), env: { ...tlsEnv, TEMPORAL_NAMESPACE: 'nope', SLUICE_STORE_DIR: storeDir }, code: 2, message: /^Error: TEMPORAL_NAMESPACE: namespace "nope" does not exist/m },
      { what: 'a TLS file that does not exist', args: ['setup'], env: { ...tlsEnv, TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(ca.dir, 'missing.pem') }, code: 2, message: /^Error: TEMPORAL_TLS_CLIENT_CERT_PATH: names a file that does not exist: fix the path or its permissions$/m },
      ...(asRoot ? [] : [{ what: 'an unreadable TLS file', args: ['setup'], env: { ...tlsEnv, TEMPORAL_TLS_CLIENT_KEY_PATH: unreadable }, code: 2, message: /^Error: TEMPORAL_TLS_CLIENT_KEY_PATH: names a file this process cannot read/m }]),
      { what: 'a certificate without its key', args: ['setup'], env: { ...tlsEnv, TEMPORAL_TLS_CLIENT_KEY_PATH: '' }, code: 2, message: /^Error: TEMPORAL_TLS_CLIENT_KEY_PATH: is missing: mTLS needs both/m },
      { what: 'no client certificate (the server requires one)', args: ['setup'], env: { TEMPORAL_ADDRESS: tlsEnv.TEMPORAL_ADDRESS!, TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.caCert, TEMPORAL_TLS_SERVER_NAME: 'localhost' }, code: 1, message: /^Cannot reach Temporal .*\n.*TEMPORAL_TLS/m },
      { what: 'a certificate from another CA', args: ['setup'], env: { ...tlsEnv, TEMPORAL_TLS_CLIENT_CERT_PATH: ca.strangerCert, TEMPORAL_TLS_CLIENT_KEY_PATH: ca.strangerKey }, code: 1, message: /^Cannot reach Temporal .*\n.*TEMPORAL_TLS/m },
      { what: 'no TLS at all', args: ['setup'], env: { TEMPORAL_ADDRESS: tlsEnv.TEMPORAL_ADDRESS! }, code: 1, message: /^Cannot reach Temporal/m },
      { what: 'a wrong address', args: ['setup'], env: { ...tlsEnv, TEMPORAL_ADDRESS: 'localhost' }, code: 2, message: /^Error: TEMPORAL_ADDRESS: must be host:port/m },
    ];
    const results = await Promise.all(cases.map(async (c) => ({ c, r: await sluice(c.args, c.env) })));
    for (const { c, r } of results) {
      assertOneLine(r, c.code, c.message, c.what);
      assert.doesNotMatch(r.out, /Search attributes registered|Sluice worker on/, `${c.what}: nothing started`);
    }
  });
});
