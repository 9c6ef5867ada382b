/**
 * `sluice codec-server`: decodes (and encodes) Sluice's encrypted payloads for the Temporal Web UI, until SIGINT or
 * SIGTERM. Keys come from SLUICE_CODEC_KEYS and the bearer token from SLUICE_CODEC_SERVER_TOKEN (never from flags:
 * argv is visible to every user of the host). Without a token it refuses to start unless told `--no-auth`.
 *
 *   SLUICE_CODEC_KEYS=k1:... sluice codec-server --port 8888 --allow-origin http://localhost:8233
 *   temporal server start-dev --ui-codec-endpoint http://localhost:8888
 */
import type { Command } from 'commander';
import { requireCodecFromEnv } from '../../codec';
import {
  checkCodecServerAccess,
  CodecServerConfigError,
  DEFAULT_ALLOWED_ORIGINS,
  DEFAULT_CODEC_SERVER_PORT,
  isLoopbackHost,
  startCodecServer,
} from '../../codec/codec-server';
import { loadConfig } from '../../config';
import { UsageError } from '../errors';

export interface CodecServerCommandOptions {
  port?: number;
  host?: string;
  allowOrigin?: string[];
  allowHost?: string[];
  /** commander's `--no-auth`: false when given. */
  auth?: boolean;
}

export async function codecServerCommand(opts: CodecServerCommandOptions, env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(env);
  const codec = requireCodecFromEnv(env);
  const origins = opts.allowOrigin?.length ? opts.allowOrigin : DEFAULT_ALLOWED_ORIGINS;
  const noAuth = opts.auth === false;
  const token = config.SLUICE_CODEC_SERVER_TOKEN;
  const host = opts.host ?? '127.0.0.1';
  try {
    checkCodecServerAccess({ allowedOrigins: origins, token, noAuth });
  } catch (err) {
    if (!(err instanceof CodecServerConfigError)) throw err;
    const field = err.field === 'token' ? 'SLUICE_CODEC_SERVER_TOKEN' : '--allow-origin';
    throw new UsageError(`${field}: ${err.reason}`);
  }
  if (noAuth) {
    console.error('Warning: --no-auth: anyone who reaches this server can decode every payload (prompts and results).');
  }
  if (!isLoopbackHost(host)) {
    console.error(
      `Warning: --host ${host} is not a loopback address: other machines can reach this server${noAuth ? ', with no token' : ''}.` +
        ' Requests must still name an allowed Host (--allow-host) and origin.',
    );
  }
  const server = await startCodecServer({
    codec,
    port: opts.port ?? DEFAULT_CODEC_SERVER_PORT,
    host,
    allowedOrigins: origins,
    allowedHosts: opts.allowHost,
    token,
    noAuth,
  });
  process.stdout.write(
    [
      `Sluice codec server on ${server.url} (encrypting with key "${codec.encryptionKeyId}")`,
      `  allowed origins: ${origins.join(', ')}`,
      `  allowed hosts:   localhost, 127.0.0.1, ::1${opts.allowHost?.length ? `, ${opts.allowHost.join(', ')}` : ''}`,
      `  bearer token:    ${token ? 'required' : 'NOT required (--no-auth)'}`,
      `  Web UI:          temporal server start-dev --ui-codec-endpoint ${server.url}, or the UI's codec server setting`,
      '',
    ].join('\n'),
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (s: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(s);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write(`${signal}: stopping the codec server\n`);
  await server.close();
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new UsageError(`--port: must be a port number 0..65535 (got "${value}")`);
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerCodecServerCommand(program: Command): Command {
  return program
    .command('codec-server')
    .description('serve /encode and /decode of encrypted payloads for the Temporal Web UI (keys: SLUICE_CODEC_KEYS)')
    .option('--port <n>', `TCP port, 0 = any free port (default ${DEFAULT_CODEC_SERVER_PORT})`, port)
    .option('--host <host>', 'interface to bind (default 127.0.0.1; 0.0.0.0 in a container)')
    .option(
      '--allow-origin <origin>',
      `an origin allowed to call (the Web UI's), repeatable; '*' is refused (default ${DEFAULT_ALLOWED_ORIGINS.join(', ')})`,
      collect,
    )
    .option('--allow-host <name>', 'a host name requests may be addressed to besides localhost, repeatable (e.g. the container name)', collect)
    .option('--no-auth', 'serve without a bearer token (a warning is printed); otherwise SLUICE_CODEC_SERVER_TOKEN is required')
    .action((opts: CodecServerCommandOptions) => codecServerCommand(opts));
}
