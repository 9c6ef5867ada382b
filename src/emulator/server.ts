/**
 * The HTTP front: routing, request ids, authentication, the 413 limit, transport faults, then the endpoint
 * handler. The admin endpoints need no API key: GET /_emulator/stats, POST /_emulator/reset and
 * POST /_emulator/advance {"ms": nominal ms}.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Endpoint } from './config';
import type { Call, Reply, Services } from './handlers';
import { HANDLERS } from './handlers';
import { parseJson, readBody, sendError, sendJson, sleep } from './http';
import { sendMessageStream } from './sse';
import { newRequestId } from './ids';
import { streamResults } from './results-stream';

export interface Route {
  endpoint: Endpoint;
  batchId: string | null;
}

const BATCHES = '/v1/messages/batches';

/** Maps method + path to an endpoint; null when unknown. */
export function matchRoute(method: string, pathname: string): Route | null {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (path === '/v1/messages') return method === 'POST' ? { endpoint: 'messages', batchId: null } : null;
  if (path === '/v1/messages/count_tokens') return method === 'POST' ? { endpoint: 'count_tokens', batchId: null } : null;
  // The Models API: batchId carries the model id of GET /v1/models/{id}.
  if (path === '/v1/models') return method === 'GET' ? { endpoint: 'models', batchId: null } : null;
  if (path.startsWith('/v1/models/') && method === 'GET' && !path.slice(11).includes('/')) {
    return { endpoint: 'models', batchId: decodeURIComponent(path.slice(11)) };
  }
  if (path === BATCHES) {
    if (method === 'POST') return { endpoint: 'create', batchId: null };
    if (method === 'GET') return { endpoint: 'list', batchId: null };
    return null;
  }
  if (!path.startsWith(`${BATCHES}/`)) return null;
  const [rawId, action, ...rest] = path.slice(BATCHES.length + 1).split('/');
  if (!rawId || rest.length > 0) return null;
  const batchId = decodeURIComponent(rawId);
  if (action === undefined) {
    if (method === 'GET') return { endpoint: 'retrieve', batchId };
    if (method === 'DELETE') return { endpoint: 'delete', batchId };
    return null;
  }
  if (action === 'cancel' && method === 'POST') return { endpoint: 'cancel', batchId };
  if (action === 'results' && method === 'GET') return { endpoint: 'results', batchId };
  return null;
}

export interface AdminHooks {
  stats(): unknown;
  reset(): void;
  advance(nominalMs: number): void;
}

/** The `ms` of an advance body `{"ms": n}`, or null when missing or negative. */
function advanceMs(body: Buffer): number | null {
  const json = parseJson(body);
  if (!json.ok || typeof json.value !== 'object' || json.value === null) return null;
  const ms = (json.value as { ms?: unknown }).ms;
  return typeof ms === 'number' && ms >= 0 ? ms : null;
}

function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  body: Buffer,
  admin: AdminHooks,
): void {
  if (pathname === '/_emulator/stats' && req.method === 'GET') return sendJson(res, 200, admin.stats());
  if (pathname === '/_emulator/reset' && req.method === 'POST') {
    admin.reset();
    return sendJson(res, 200, { ok: true });
  }
  if (pathname === '/_emulator/advance' && req.method === 'POST') {
    const ms = advanceMs(body);
    if (ms === null) return sendError(res, 'invalid_request_error', 'ms: a number >= 0 is required');
    admin.advance(ms);
    return sendJson(res, 200, { ok: true });
  }
  sendError(res, 'not_found_error', `Unknown admin endpoint ${req.method ?? ''} ${pathname}`);
}

/**
 * The spec names `x-api-key`; the installed SDK (1.x) sends the key as `Authorization: Bearer <key>`.
 * Either is accepted; a missing or wrong key is a 401.
 */
function apiKeyProblem(req: IncomingMessage, apiKey: string): string | null {
  const header = req.headers['x-api-key'];
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const given = typeof header === 'string' ? header : bearer;
  if (given === undefined) return 'x-api-key header is required';
  return given === apiKey ? null : 'invalid x-api-key';
}

async function send(res: ServerResponse, reply: Reply, services: Services): Promise<void> {
  switch (reply.kind) {
    case 'json':
      return sendJson(res, 200, reply.body);
    case 'error':
      return sendError(res, reply.type, reply.message);
    case 'results':
      return streamResults(res, reply.batch, { cut: services.faults.resultsCut() });
    case 'stream':
      return sendMessageStream(res, reply.message);
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, services: Services, admin: AdminHooks): Promise<void> {
  res.setHeader('request-id', newRequestId());
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  const body = await readBody(req, services.config.maxBodyBytes);
  if (url.pathname.startsWith('/_emulator/')) {
    return handleAdmin(req, res, url.pathname, body.ok ? body.body : Buffer.alloc(0), admin);
  }

  const route = matchRoute(req.method ?? 'GET', url.pathname);
  if (!route) return sendError(res, 'not_found_error', `Not found: ${req.method ?? ''} ${url.pathname}`);
  services.stats.recordCall(route.endpoint);
  const keyProblem = apiKeyProblem(req, services.config.apiKey);
  if (keyProblem) return sendError(res, 'authentication_error', keyProblem);
  if (!body.ok) return sendError(res, 'request_too_large');

  const decision = services.faults.transport(route.endpoint);
  const aimed = services.faults.aimed(route.endpoint, body.body);
  if (decision.resetBefore || aimed?.resetBefore) return void req.socket.destroy();
  if (decision.delayMs > 0) await sleep(decision.delayMs);
  if (aimed && aimed.delayBeforeMs > 0) {
    await sleep(aimed.delayBeforeMs);
    if (clientGone(req, res)) return; // a client that timed out is not served: nothing happens
  }
  const error = aimed?.error ?? decision.error;
  if (error) {
    const retryAfter = error === decision.error ? decision.error.retryAfterSeconds : undefined;
    return sendError(res, error.type, undefined, retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) });
  }

  const call: Call = {
    endpoint: route.endpoint,
    batchId: route.batchId,
    query: url.searchParams,
    body: body.body,
    headers: req.headers,
    origin: `http://${req.headers.host ?? 'localhost'}`,
  };
  const reply = HANDLERS[route.endpoint](services, call);
  if (decision.resetAfter || aimed?.resetAfter) return void req.socket.destroy();
  if (aimed && aimed.delayAfterMs > 0) {
    await sleep(aimed.delayAfterMs);
    if (clientGone(req, res)) return; // the work is done; the answer is lost with the client
  }
  await send(res, reply, services);
}

function clientGone(req: IncomingMessage, res: ServerResponse): boolean {
  return req.socket.destroyed || res.destroyed;
}

export function createEmulatorServer(services: Services, admin: AdminHooks): Server {
  return createServer((req, res) => {
    handle(req, res, services, admin).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, 'api_error', `Emulator failure: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
}
