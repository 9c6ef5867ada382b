/** Small node:http helpers: JSON and error responses, bounded body reading. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorType } from './config';
import { errorEnvelope, STATUS_BY_ERROR_TYPE } from './errors';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Sends the real API's error envelope, with the status of its type and the response's request-id. */
export function sendError(
  res: ServerResponse,
  type: ErrorType | 'request_too_large',
  message?: string,
  headers: Record<string, string> = {},
): void {
  const requestId = res.getHeader('request-id');
  const envelope = errorEnvelope(type, message, typeof requestId === 'string' ? requestId : null);
  sendJson(res, STATUS_BY_ERROR_TYPE[type], envelope, headers);
}

export type BodyRead = { ok: true; body: Buffer } | { ok: false; bytes: number };

/**
 * Reads the whole body, or, past `maxBytes`, keeps draining it without storing it (answering before the
 * upload ends would make the client see a broken pipe instead of the 413).
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyRead> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let tooLarge = Number(req.headers['content-length'] ?? 0) > maxBytes;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > maxBytes) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  return tooLarge ? { ok: false, bytes } : { ok: true, body: Buffer.concat(chunks, bytes) };
}

export type JsonRead = { ok: true; value: unknown } | { ok: false; message: string };

/** Parses a JSON body (an empty body reads as undefined). */
export function parseJson(body: Buffer): JsonRead {
  if (body.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown };
  } catch (err) {
    return {
      ok: false,
      message: `There was an issue with the request body: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
