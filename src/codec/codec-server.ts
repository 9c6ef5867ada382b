/**
 * A codec server: the Temporal Web UI (and `temporal workflow show --codec-endpoint`) sends the payloads it shows
 * here to be decoded, so people see plain JSON while the server keeps only ciphertext. The protocol is Temporal's:
 *
 *   POST <endpoint>/decode   {"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}
 *   POST <endpoint>/encode   same shape, answers the same shape
 *
 * The browser calls it directly from the UI's origin, so the UI origin must be allowed (CORS). Every call must carry
 * `Authorization: Bearer <token>` (the Temporal CLI sends one with `--codec-auth`) unless the server was started
 * with `noAuth` on purpose. Decoded payloads are prompts and results, so three more locks: the Host header must
 * name an allowed host (a page on another domain that rebinds its DNS to 127.0.0.1 sends its own name), an Origin
 * header must be an allowed origin (never `*`: answers carry credentials), and the default interface is loopback.
 */
import { timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Default 8888; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1; 0.0.0.0 in a container. */
  host?: string;
  /** Origins whose pages may call the server (the Web UI's), e.g. http://localhost:8233. '*' is refused. */
  allowedOrigins?: string[];
  /**
   * Host names (without port) a request's Host header may carry, besides the loopback names (localhost,
   * 127.0.0.1, ::1), e.g. the name a container is reached by. Default: none more.
   */
  allowedHosts?: string[];
  /** Calls need `Authorization: Bearer <token>`. Required unless `noAuth` is true. */
  token?: string;
  /** Serve without a token; only for a server that nothing but the UI can reach. */
  noAuth?: boolean;
  /** Largest request body accepted; default 32 MiB (history pages hold many payloads of up to 2 MB). */
  maxBodyBytes?: number;
  /** Where failures are reported (never payload contents). Default: stderr. */
  log?: (line: string) => void;
}

export interface CodecServerHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A payload as the Web UI sends it: protobuf JSON, bytes in base64. */
export interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

export const DEFAULT_CODEC_SERVER_PORT = 8888;
export const DEFAULT_ALLOWED_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'];

/** Thrown before anything listens when the options would leave the server open. */
export class CodecServerConfigError extends Error {
  override name = 'CodecServerConfigError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** Whether an interface address is a loopback one (only this machine reaches it). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** The host name of a Host header value ("localhost:8888" → "localhost", "[::1]:8888" → "::1"). */
export function hostNameOf(hostHeader: string): string {
  const v = hostHeader.trim().toLowerCase();
  if (v.startsWith('[')) return v.slice(1, v.indexOf(']') > 0 ? v.indexOf(']') : undefined);
  return v.replace(/:\d*$/, '');
}

/** Checks the options that decide who may call; throws CodecServerConfigError naming the option. */
export function checkCodecServerAccess(o: Pick<CodecServerOptions, 'allowedOrigins' | 'token' | 'noAuth'>): void {
  if (!o.token && !o.noAuth) {
    throw new CodecServerConfigError('token', 'a bearer token is required (SLUICE_CODEC_SERVER_TOKEN), or serve without one on purpose with --no-auth');
  }
  if (o.token && o.noAuth) throw new CodecServerConfigError('token', 'give a token or --no-auth, not both');
  for (const origin of o.allowedOrigins ?? []) {
    if (origin.trim() === '*') {
      throw new CodecServerConfigError('allowed origin', "'*' is refused: answers carry credentials, so name the Web UI's origin (e.g. http://localhost:8233)");
    }
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new CodecServerConfigError('allowed origin', `"${origin}" is not an origin such as http://localhost:8233`);
    }
    if (url.origin !== origin.replace(/\/$/, '')) {
      throw new CodecServerConfigError('allowed origin', `"${origin}" is not an origin (scheme, host and port only) such as ${url.origin}`);
    }
  }
}
const MAX_BODY_BYTES = 32 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function payloadFromJson(json: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(json.metadata ?? {})) metadata[k] = Buffer.from(v, 'base64');
  return { metadata, data: json.data ? Buffer.from(json.data, 'base64') : new Uint8Array() };
}

export function payloadToJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload.metadata ?? {})) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

export async function startCodecServer(o: CodecServerOptions): Promise<CodecServerHandle> {
  checkCodecServerAccess(o);
  const allowed = (o.allowedOrigins ?? DEFAULT_ALLOWED_ORIGINS).map((x) => x.replace(/\/$/, ''));
  const hosts = new Set([...LOOPBACK_HOSTS, ...(o.allowedHosts ?? []).map((h) => hostNameOf(h))]);
  const maxBody = o.maxBodyBytes ?? MAX_BODY_BYTES;
  const log = o.log ?? ((line: string) => console.error(line));
  const token = o.token ? Buffer.from(`Bearer ${o.token}`) : undefined;

  const originAllowed = (origin: string | undefined) => origin !== undefined && allowed.includes(origin);
  const hostAllowed = (host: string | undefined) => host !== undefined && hosts.has(hostNameOf(host));

  const corsHeaders = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    if (!originAllowed(origin)) return {};
    return {
      'Access-Control-Allow-Origin': origin!,
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers':
        req.headers['access-control-request-headers'] ?? 'Content-Type, X-Namespace, Authorization',
      'Access-Control-Max-Age': '600',
      Vary: 'Origin',
    };
  };

  const authorized = (req: IncomingMessage) => {
    if (!token) return true;
    const given = Buffer.from(req.headers.authorization ?? '');
    return given.length === token.length && timingSafeEqual(given, token);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // Before anything else: a foreign Host is DNS rebinding, a foreign Origin a page we do not serve.
    if (!hostAllowed(req.headers.host)) {
      throw new HttpError(403, 'this Host is not allowed (sluice codec-server --allow-host)');
    }
    if (req.headers.origin !== undefined && !originAllowed(req.headers.origin)) {
      throw new HttpError(403, 'this origin is not allowed (sluice codec-server --allow-origin)');
    }
    const cors = corsHeaders(req);
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    if (req.method === 'GET' && path === '/health') {
      res.writeHead(200, { ...cors, 'Content-Type': 'text/plain' }).end('ok\n');
      return;
    }
    const op = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : undefined;
    if (!op) throw new HttpError(404, 'not found: POST /encode or /decode');
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} not allowed: use POST`);
    if (!authorized(req)) throw new HttpError(401, 'missing or wrong bearer token');

    const body = await readBody(req, maxBody);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'the body is not JSON');
    }
    const list = (parsed as { payloads?: unknown } | null)?.payloads;
    if (!Array.isArray(list) || !list.every(isJsonPayload)) {
      throw new HttpError(400, 'expected {"payloads": [{"metadata": {...}, "data": "<base64>"}, ...]}');
    }
    const payloads = list.map(payloadFromJson);
    let out: Payload[];
    try {
      out = op === 'encode' ? await o.codec.encode(payloads) : await o.codec.decode(payloads);
    } catch (err) {
      throw new HttpError(400, err instanceof Error ? err.message : String(err));
    }
    res
      .writeHead(200, { ...cors, 'Content-Type': 'application/json' })
      .end(JSON.stringify({ payloads: out.map(payloadToJson) }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status >= 500) log(`codec server: ${req.method} ${req.url}: ${message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const headers: Record<string, string> = { ...corsHeaders(req), 'Content-Type': 'application/json' };
      if (status === 401) headers['WWW-Authenticate'] = 'Bearer';
      res.writeHead(status, headers).end(JSON.stringify({ error: message }));
    });
  });
  server.listen(o.port ?? DEFAULT_CODEC_SERVER_PORT, o.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function isJsonPayload(value: unknown): value is JsonPayload {
  if (typeof value !== 'object' || value === null) return false;
  const { metadata, data } = value as JsonPayload;
  const metadataOk =
    metadata === undefined ||
    metadata === null ||
    (typeof metadata === 'object' && Object.values(metadata).every((v) => typeof v === 'string'));
  return metadataOk && (data === undefined || data === null || typeof data === 'string');
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `the body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
