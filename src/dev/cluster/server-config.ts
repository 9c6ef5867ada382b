/**
 * The full Temporal server's configuration for the production-shaped stack: PostgreSQL persistence and SQL
 * visibility (two databases), every service in one process on loopback ports, optional TLS on the frontend.
 * Pure: text from options, so tests can read what the stack runs.
 */

export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface FrontendTls {
  certFile: string;
  keyFile: string;
  caFile: string;
  /** mTLS: clients must present a certificate signed by caFile. */
  requireClientAuth: boolean;
  /** The name in the server certificate, for the server's own internal clients. */
  serverName: string;
  /** The certificate the server's system worker presents to its frontend (mTLS), signed by caFile. */
  systemWorkerCertFile: string;
  systemWorkerKeyFile: string;
}

export interface ServerConfigOptions {
  host: string;
  ports: ServerPorts;
  postgres: PostgresTarget;
  temporalDatabase: string;
  visibilityDatabase: string;
  logFile: string;
  dynamicConfigFile: string;
  tls?: FrontendTls;
}

export const SERVER_PORT_NAMES: (keyof ServerPorts)[] = [
  'frontend',
  'frontendHttp',
  'frontendMembership',
  'history',
  'historyMembership',
  'matching',
  'matchingMembership',
  'worker',
  'workerMembership',
  'metrics',
];

const q = (s: string) => JSON.stringify(s);

function datastore(o: ServerConfigOptions, database: string, maxConns: number): string {
  return `      sql:
        pluginName: "postgres12"
        databaseName: ${q(database)}
        connectAddr: ${q(`${o.postgres.host}:${o.postgres.port}`)}
        connectProtocol: "tcp"
        user: ${q(o.postgres.user)}
        password: ${q(o.postgres.password)}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
}

function service(name: string, grpc: number, membership: number, http?: number): string {
  return `  ${name}:
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
}

function tlsBlock(t: FrontendTls): string {
  return `  tls:
    frontend:
      server:
        certFile: ${q(t.certFile)}
        keyFile: ${q(t.keyFile)}
        requireClientAuth: ${t.requireClientAuth}
        clientCaFiles: [${q(t.caFile)}]
      client:
        serverName: ${q(t.serverName)}
        rootCaFiles: [${q(t.caFile)}]
    systemWorker:
      certFile: ${q(t.systemWorkerCertFile)}
      keyFile: ${q(t.systemWorkerKeyFile)}
      client:
        serverName: ${q(t.serverName)}
        rootCaFiles: [${q(t.caFile)}]
`;
}

export function serverConfigYaml(o: ServerConfigOptions): string {
  const p = o.ports;
  return `# Written by Sluice's production-shaped stack (src/dev/cluster/server-config.ts).
log:
  stdout: false
  level: warn
  outputFile: ${q(o.logFile)}

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${datastore(o, o.temporalDatabase, 20)}
    postgres-visibility:
${datastore(o, o.visibilityDatabase, 4)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: ${q(o.host)}
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: ${q(`${o.host}:${p.metrics}`)}
${o.tls ? tlsBlock(o.tls) : ''}
services:
${service('frontend', p.frontend, p.frontendMembership, p.frontendHttp)}
${service('history', p.history, p.historyMembership)}
${service('matching', p.matching, p.matchingMembership)}
${service('worker', p.worker, p.workerMembership)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: ${q(`${o.host}:${p.frontend}`)}

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: ${q(o.dynamicConfigFile)}
  pollInterval: "10s"
`;
}

/** Dynamic config: new search attributes usable at once (as on the dev server), not after a cache refresh. */
export function dynamicConfigYaml(): string {
  return `system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
    constraints: {}
`;
}
