/** A throwaway certificate authority with a server certificate (localhost, 127.0.0.1) and a client certificate, made with openssl. */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface ThrowawayCa {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Signed by another CA: a client the server must refuse. */
  strangerCert: string;
  strangerKey: string;
}

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  await exec('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`]);
  return { cert, key };
}

async function issue(dir: string, name: string, ca: { cert: string; key: string }, ext: string): Promise<{ cert: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.pem`);
  const extFile = path.join(dir, `${name}.ext`);
  await writeFile(extFile, ext);
  await exec('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  await exec('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '1', '-extfile', extFile]);
  return { cert, key };
}

export async function makeThrowawayCa(): Promise<ThrowawayCa> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-ca-'));
  const ca = await makeCa(dir, 'sluice-test-ca');
  const server = await issue(dir, 'server', ca, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  const client = await issue(dir, 'client', ca, 'extendedKeyUsage=clientAuth\n');
  const otherCa = await makeCa(dir, 'other-ca');
  const stranger = await issue(dir, 'stranger', otherCa, 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    strangerCert: stranger.cert,
    strangerKey: stranger.key,
  };
}
