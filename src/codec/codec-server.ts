/**
 * A codec server: the Temporal Web UI (and `temporal workflow show --codec-endpoint`) sends the payloads it shows
 * here to be decoded, so people see plain JSON while the server keeps only ciphertext. The protocol is Temporal's:
 *
 *   POST <endpoint>/decode   {"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}
 *   POST <endpoint>/encode   same shape, answers the same shape
 *
 * The browser calls it directly from the UI's origin, so the UI origin must be allowed (CORS). With a token, every
 * call must carry `Authorization: Bearer <token>`; the Temporal CLI sends one with `--codec-auth`.
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
  /** Origins whose pages may call the server (the Web UI's), e.g. http://localhost:8233; '*' allows any. */
  allowedOrigins?: string[];
  /** When set, calls need `Authorization: Bearer <token>`. */
  token?: string;
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
  const allowed = o.allowedOrigins ?? DEFAULT_ALLOWED_ORIGINS;
  const maxBody = o.maxBodyBytes ?? MAX_BODY_BYTES;
  const log = o.log ?? ((line: string) => console.error(line));
  const token = o.token ? Buffer.from(`Bearer ${o.token}`) : undefined;

  const originAllowed = (origin: string | undefined) =>
    origin !== undefined && (allowed.includes('*') || allowed.includes(origin));

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
    const cors = corsHeaders(req);
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    if (req.method === 'OPTIONS') {
      if (req.headers.origin !== undefined && !originAllowed(req.headers.origin)) {
        throw new HttpError(403, `origin ${req.headers.origin} is not allowed (sluice codec-server --allow-origin)`);
      }
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
