// docker-compose.yml against the code (CI has no Docker engine): the services and how they connect, and the
// environment the Sluice services get, checked against src/config.ts's EnvSchema (a renamed variable fails here)
// and run through loadConfig as the containers would.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { EnvSchema, loadConfig } from '../src/config';
import { DEFAULT_SETUP_NAMES, setupSteps } from '../src/dev/cluster/setup-steps';
import { TEMPORAL_CLI_VERSION } from '../src/dev/temporal-cli';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from '../src/dev/temporal-server';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  profiles?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  environment?: Record<string, string | number | null>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  entrypoint?: string[];
}

const root = path.join(__dirname, '..');
const composeText = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const prometheus = parse(readFileSync(path.join(root, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
  scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
};

/** What `docker compose` would put in the environment, given the host's variables (`${X:-d}`, `${X:?msg}`, `${X}`). */
function interpolate(value: string, host: Record<string, string>, required: Set<string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const v = host[name];
    const unset = op?.startsWith(':') ? !v : v === undefined;
    if (op?.endsWith('?')) {
      required.add(name);
      if (unset) throw new Error(`${name}: ${arg}`);
      return v!;
    }
    if (op?.endsWith('-') && unset) return arg ?? '';
    return v ?? '';
  });
}

function environmentOf(name: string, host: Record<string, string>, required = new Set<string>()): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(services[name]?.environment ?? {})) {
    if (v === null) {
      if (host[k] !== undefined) env[k] = host[k]; // passed through from the host when set there
      continue;
    }
    env[k] = interpolate(String(v), host, required);
  }
  return env;
}

const dependsOn = (s: Service) => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));
/** [host address, host port, container port] of a published port; compose's `${VAR:-default}` taken at its default. */
const published = (s: Service) =>
  (s.ports ?? []).map((p) => {
    const parts = p.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').split(':');
    return parts.length === 3 ? parts : ['0.0.0.0', ...parts];
  });
const hostPort = (s: Service, containerPort: number) => published(s).find(([, , c]) => Number(c) === containerPort)?.[1];

const HOST_ENV = {
  ANTHROPIC_API_KEY: 'sk-ant-test',
  SLUICE_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
};
const SLUICE_SERVICES = ['sluice-worker', 'sluice-cli', 'sluice-codec-server', 'sluice-setup'];

test('the services of the production stack are all there', () => {
  for (const name of ['postgresql', 'temporal-schema', 'temporal', 'temporal-namespace', 'sluice-setup', 'temporal-ui', 'prometheus', ...SLUICE_SERVICES]) {
    assert.ok(services[name], `service ${name}`);
  }
  for (const name of SLUICE_SERVICES) assert.equal(services[name]!.build, '.', `${name} is built from the Dockerfile`);
  assert.deepEqual(services['sluice-worker']!.command, ['worker']);
  assert.equal(services['sluice-codec-server']!.command?.[0], 'codec-server');
  assert.deepEqual(services['sluice-cli']!.profiles, ['cli'], 'the CLI runs on demand');
  assert.match(composeText, /--scale sluice-worker=\d/, 'the file says how to scale workers');
  assert.deepEqual(Object.keys(compose.volumes).sort(), ['postgresql-data', 'prometheus-data']);
});

test('ports and dependencies', () => {
  assert.equal(hostPort(services.temporal!, 7233), '7233');
  assert.equal(hostPort(services['temporal-ui']!, 8080), '8233');
  assert.equal(hostPort(services.prometheus!, 9090), '9090');
  assert.deepEqual(services['sluice-worker']!.depends_on, {
    'sluice-setup': { condition: 'service_completed_successfully' },
    postgresql: { condition: 'service_healthy' },
  });
  assert.ok(dependsOn(services['sluice-cli']!).includes('postgresql'));
  assert.ok(dependsOn(services['temporal-ui']!).includes('sluice-codec-server'));
  assert.ok(dependsOn(services.prometheus!).includes('sluice-worker'));
  assert.ok(services.prometheus!.volumes?.includes('./deploy/prometheus:/etc/prometheus:ro'));
  // Workers are scaled, so they publish no host port; Prometheus reaches each on the network.
  assert.equal(services['sluice-worker']!.ports, undefined);
});

test('every variable a Sluice service gets is one src/config.ts knows', () => {
  const known = new Set(Object.keys(EnvSchema.shape));
  const outsideSchema = new Set(['NODE_OPTIONS']); // read by Node itself
  for (const name of SLUICE_SERVICES) {
    for (const variable of Object.keys(services[name]!.environment ?? {})) {
      assert.ok(known.has(variable) || outsideSchema.has(variable), `${name}: ${variable} is not in EnvSchema`);
    }
  }
});

test("the workers' environment loads as the worker loads it: PostgreSQL store, metrics, encryption", () => {
  const required = new Set<string>();
  const env = environmentOf('sluice-worker', HOST_ENV, required);
  assert.deepEqual([...required].sort(), ['ANTHROPIC_API_KEY', 'SLUICE_CODEC_KEYS'], 'the host must provide these');
  const cfg = loadConfig(env);
  assert.equal(cfg.TEMPORAL_ADDRESS, 'temporal:7233');
  assert.equal(cfg.ANTHROPIC_API_KEY, 'sk-ant-test');
  assert.equal(cfg.store.kind, 'postgres');
  const url = new URL(cfg.store.kind === 'postgres' ? cfg.store.url : '');
  assert.equal(url.hostname, 'postgresql', 'the store is the compose PostgreSQL');
  assert.equal(url.port, '5432');
  assert.equal(url.pathname, '/sluice', 'in a database of its own');
  assert.equal(url.username, 'sluice');
  assert.equal(cfg.SLUICE_CODEC_KEYS, HOST_ENV.SLUICE_CODEC_KEYS);
  assert.equal(cfg.SLUICE_TASK_QUEUE_ACTIVITIES_PER_SECOND, undefined, 'empty means no limit');
  assert.equal(loadConfig(environmentOf('sluice-worker', { ...HOST_ENV, SLUICE_TASK_QUEUE_ACTIVITIES_PER_SECOND: '40' })).SLUICE_TASK_QUEUE_ACTIVITIES_PER_SECOND, 40);

  // The metrics port is the one the worker exposes and Prometheus scrapes.
  const metricsPort = cfg.SLUICE_METRICS_ADDRESS?.split(':')[1];
  assert.equal(cfg.SLUICE_METRICS_ADDRESS, '0.0.0.0:9464');
  assert.deepEqual(services['sluice-worker']!.expose, [metricsPort]);
  const job = prometheus.scrape_configs.find((c) => c.job_name === 'sluice-worker');
  assert.equal(String(job?.dns_sd_configs?.[0]?.port), metricsPort);
  assert.deepEqual(job?.dns_sd_configs?.[0]?.names, ['sluice-worker'], 'Prometheus looks up the service name');

  assert.throws(() => environmentOf('sluice-worker', {}), /ANTHROPIC_API_KEY: set ANTHROPIC_API_KEY/);
});

test('the CLI shares the workers\' store and keys; the database is created for it', () => {
  const worker = loadConfig(environmentOf('sluice-worker', HOST_ENV));
  const cli = loadConfig(environmentOf('sluice-cli', HOST_ENV));
  assert.deepEqual(cli.store, worker.store);
  assert.equal(cli.SLUICE_CODEC_KEYS, worker.SLUICE_CODEC_KEYS);
  assert.equal(cli.SLUICE_TASK_QUEUE, worker.SLUICE_TASK_QUEUE);
  assert.equal(cli.SLUICE_WEB_UI, `http://localhost:${hostPort(services['temporal-ui']!, 8080)}`);

  const pg = services.postgresql!;
  const init = pg.volumes?.find((v) => v.includes('/docker-entrypoint-initdb.d/'));
  assert.ok(init, 'an init script creates the store database');
  const script = readFileSync(path.join(root, init.split(':')[0]!), 'utf8');
  assert.match(script, /CREATE DATABASE sluice OWNER sluice/);
  assert.match(script, /CREATE ROLE sluice LOGIN PASSWORD :'sluice_password'/);
  assert.equal(environmentOf('postgresql', {}).SLUICE_DB_PASSWORD, 'sluice');
  assert.equal(new URL(worker.store.kind === 'postgres' ? worker.store.url : '').password, 'sluice', 'the same password');
});

test('the Web UI decodes through the codec server, which allows the UI origin and has the keys', () => {
  const codec = services['sluice-codec-server']!;
  const args = codec.command!;
  const flag = (name: string) => args[args.indexOf(name) + 1];
  const port = flag('--port')!;
  assert.equal(flag('--host'), '0.0.0.0');
  assert.equal(hostPort(codec, Number(port)), port);
  const ui = environmentOf('temporal-ui', HOST_ENV);
  assert.equal(ui.TEMPORAL_CODEC_ENDPOINT, `http://localhost:${port}`, 'the browser reaches the published port');
  assert.equal(flag('--allow-origin'), `http://localhost:${hostPort(services['temporal-ui']!, 8080)}`);
  const env = environmentOf('sluice-codec-server', HOST_ENV);
  assert.equal(loadConfig(env).SLUICE_CODEC_KEYS, HOST_ENV.SLUICE_CODEC_KEYS);
  assert.equal(environmentOf('sluice-codec-server', { ...HOST_ENV, SLUICE_CODEC_SERVER_TOKEN: 't'.repeat(20) }).SLUICE_CODEC_SERVER_TOKEN, 't'.repeat(20));
});

test('a codec server without a token is published on loopback only, unless the operator opts in', () => {
  const codec = services['sluice-codec-server']!;
  assert.ok(codec.command!.includes('--no-auth'), 'the UI calls it without a token: --no-auth said explicitly');
  for (const p of codec.ports ?? []) assert.match(p, /^\$\{SLUICE_PUBLISH_ADDRESS:-127\.0\.0\.1\}:/, `published on loopback by default: ${p}`);
});

test('the Dockerfile exposes the metrics and codec ports', () => {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^EXPOSE 9464 8888$/m);
  assert.match(dockerfile, /ENTRYPOINT \["node", "bin\/sluice.js"\]/);
});

/** The command lines of a setup script that run `tool`, as argument lists (shell continuation lines joined). */
function invocations(script: string, tool: string): string[][] {
  return script
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .flatMap((l) => {
      const at = l.indexOf(`${tool} `);
      if (at < 0) return [];
      return [l.slice(at + tool.length).replace(/;\s*then$|\s*(>|\|\|).*$/, '').trim().split(/\s+/)];
    });
}

test('compose runs the same setup steps as the stack, in the same order, one-shot before the workers', () => {
  const steps = setupSteps(DEFAULT_SETUP_NAMES);
  const schemaScript = readFileSync(path.join(root, 'deploy/temporal/schema.sh'), 'utf8');
  assert.deepEqual(
    invocations(schemaScript, 'temporal-sql-tool'),
    steps.filter((s) => s.tool === 'temporal-sql-tool').map((s) => s.args),
    'deploy/temporal/schema.sh runs the schema steps of src/dev/cluster/setup-steps.ts',
  );
  // setup-schema only on a database create-database has just made (as the stack does), so a rerun keeps the data.
  assert.match(schemaScript, /if temporal-sql-tool --db temporal create-database; then\n\s+temporal-sql-tool --db temporal setup-schema -v 0\.0\nfi/);
  const nsScript = readFileSync(path.join(root, 'deploy/temporal/namespace.sh'), 'utf8');
  const created = invocations(nsScript, 'temporal').filter((a) => a.slice(0, 3).join(' ') === 'operator namespace create');
  assert.deepEqual(created, steps.filter((s) => s.tool === 'temporal').map((s) => s.args));
  assert.deepEqual(services['sluice-setup']!.command, steps.find((s) => s.tool === 'sluice')!.args);

  // The order: schema, server, namespace, sluice setup, workers; each one-shot step must succeed first.
  const needs = (name: string, on: string, condition: string) =>
    assert.deepEqual((services[name]!.depends_on as Record<string, { condition: string }>)[on], { condition }, `${name} after ${on}`);
  needs('temporal-schema', 'postgresql', 'service_healthy');
  needs('temporal', 'temporal-schema', 'service_completed_successfully');
  needs('temporal-namespace', 'temporal', 'service_started');
  needs('sluice-setup', 'temporal-namespace', 'service_completed_successfully');
  needs('sluice-worker', 'sluice-setup', 'service_completed_successfully');
  assert.ok(services['temporal-schema']!.volumes?.includes('./deploy/temporal:/setup:ro'));
  assert.deepEqual(services['temporal-schema']!.entrypoint, ['/bin/sh', '/setup/schema.sh']);
  assert.deepEqual(services['temporal-namespace']!.entrypoint, ['/bin/sh', '/setup/namespace.sh']);
  const sluiceSetup = loadConfig(environmentOf('sluice-setup', HOST_ENV));
  const worker = loadConfig(environmentOf('sluice-worker', HOST_ENV));
  assert.deepEqual(
    [sluiceSetup.TEMPORAL_ADDRESS, sluiceSetup.TEMPORAL_NAMESPACE, sluiceSetup.SLUICE_TASK_QUEUE],
    [worker.TEMPORAL_ADDRESS, worker.TEMPORAL_NAMESPACE, worker.SLUICE_TASK_QUEUE],
    'sluice setup prepares the namespace and queue the workers use',
  );
});

test('versions are pinned to the ones the stack builds; the server image, not the deprecated auto-setup', () => {
  const tag = (name: string) => services[name]!.image!.split(':')[1]!;
  assert.ok(!composeText.includes('auto-setup:'), 'no temporalio/auto-setup image');
  assert.equal(services.temporal!.image, `temporalio/server:${TEMPORAL_SERVER_VERSION.slice(1)}`);
  for (const name of ['temporal-schema', 'temporal-namespace']) {
    assert.match(services[name]!.image!, /^temporalio\/admin-tools:/);
    assert.ok(tag(name).startsWith(`${TEMPORAL_SERVER_VERSION.slice(1)}-`), `${name}: admin tools of server ${TEMPORAL_SERVER_VERSION}`);
    // The admin-tools image of 1.29.1 carries CLI 1.5.0; the stack builds 1.5.1 (same server line, same commands).
    assert.match(tag(name), new RegExp(`-cli-${TEMPORAL_CLI_VERSION.slice(1, 4).replace('.', '\\.')}\\.\\d+$`));
  }
  assert.equal(services['temporal-ui']!.image, `temporalio/ui:${TEMPORAL_UI_VERSION.slice(1)}`);
});

test('Temporal, the Web UI, the codec server and Prometheus listen on loopback unless the operator opts in', () => {
  for (const name of ['temporal', 'temporal-ui', 'sluice-codec-server', 'prometheus']) {
    const ports = services[name]!.ports ?? [];
    assert.ok(ports.length > 0, name);
    for (const p of ports) assert.match(p, /^\$\{SLUICE_PUBLISH_ADDRESS:-127\.0\.0\.1\}:\d+:\d+$/, `${name}: ${p}`);
    for (const [host] of published(services[name]!)) assert.equal(host, '127.0.0.1', name);
  }
  for (const name of ['postgresql', 'sluice-worker', 'temporal-schema', 'temporal-namespace', 'sluice-setup']) {
    assert.equal(services[name]!.ports, undefined, `${name} publishes nothing`);
  }
  assert.match(composeText, /SLUICE_PUBLISH_ADDRESS=0\.0\.0\.0/, 'the file says how to opt in');
  const docs = readFileSync(path.join(root, 'docs/production.md'), 'utf8');
  assert.match(docs, /SLUICE_PUBLISH_ADDRESS/, 'docs/production.md says how to publish them with authentication in front');
});
