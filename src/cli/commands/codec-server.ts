/**
 * `sluice codec-server`: decodes (and encodes) Sluice's encrypted payloads for the Temporal Web UI, until SIGINT or
 * SIGTERM. Keys come from SLUICE_CODEC_KEYS (never from flags: argv is visible to every user of the host), the
 * optional bearer token from SLUICE_CODEC_SERVER_TOKEN.
 *
 *   SLUICE_CODEC_KEYS=k1:... sluice codec-server --port 8888 --allow-origin http://localhost:8233
 *   temporal server start-dev --ui-codec-endpoint http://localhost:8888
 */
import type { Command } from 'commander';
import { requireCodecFromEnv } from '../../codec';
import { DEFAULT_ALLOWED_ORIGINS, DEFAULT_CODEC_SERVER_PORT, startCodecServer } from '../../codec/codec-server';
import { loadConfig } from '../../config';
import { UsageError } from '../errors';

export interface CodecServerCommandOptions {
  port?: number;
  host?: string;
  allowOrigin?: string[];
}

export async function codecServerCommand(opts: CodecServerCommandOptions, env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(env);
  const codec = requireCodecFromEnv(env);
  const origins = opts.allowOrigin?.length ? opts.allowOrigin : DEFAULT_ALLOWED_ORIGINS;
  const server = await startCodecServer({
    codec,
    port: opts.port ?? DEFAULT_CODEC_SERVER_PORT,
    host: opts.host,
    allowedOrigins: origins,
    token: config.SLUICE_CODEC_SERVER_TOKEN,
  });
  process.stdout.write(
    [
      `Sluice codec server on ${server.url} (encrypting with key "${codec.encryptionKeyId}")`,
      `  allowed origins: ${origins.join(', ')}`,
      `  bearer token:    ${config.SLUICE_CODEC_SERVER_TOKEN ? 'required' : 'not required (set SLUICE_CODEC_SERVER_TOKEN to require one)'}`,
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
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new UsageError(`--port: not a port number: ${value}`);
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
      `an origin allowed to call (the Web UI's), repeatable; '*' for any (default ${DEFAULT_ALLOWED_ORIGINS.join(', ')})`,
      collect,
    )
    .action((opts: CodecServerCommandOptions) => codecServerCommand(opts));
}
