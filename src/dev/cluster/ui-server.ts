/** The Temporal Web UI server (ui-server, assets embedded) pointed at the stack's frontend and codec server. */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stopChild } from '../dev-server';

export interface UiServerHandle {
  url: string;
  stop(): Promise<void>;
}

export async function startUiServer(o: {
  binary: string;
  dir: string;
  host: string;
  port: number;
  temporalAddress: string;
  namespace: string;
  codecEndpoint: string;
}): Promise<UiServerHandle> {
  const configDir = path.join(o.dir, 'config');
  await mkdir(configDir, { recursive: true });
  await writeFile(path.join(configDir, 'base.yaml'), '# Written by the Sluice stack; see development.yaml.\n');
  await writeFile(
    path.join(configDir, 'development.yaml'),
    [
      `temporalGrpcAddress: ${JSON.stringify(o.temporalAddress)}`,
      `host: ${JSON.stringify(o.host)}`,
      `port: ${o.port}`,
      'enableUi: true',
      `defaultNamespace: ${JSON.stringify(o.namespace)}`,
      'notifyOnNewVersion: false',
      'cors:',
      '  cookieInsecure: true',
      'codec:',
      `  endpoint: ${JSON.stringify(o.codecEndpoint)}`,
      '',
    ].join('\n'),
  );
  const child = spawn(o.binary, ['--root', o.dir, '--config', 'config', '--env', 'development', 'start'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4_000)));
  const url = `http://${o.host}:${o.port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The Web UI server exited with code ${child.exitCode}:\n${stderr}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`The Web UI server did not answer on ${url}:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop: () => stopChild(child) };
}
