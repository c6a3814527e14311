import { listenHttp, readDeclaredBody, type HttpListener } from '@hexedge/protocol/node';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { directInferRoute, type DirectInferRoute } from '../infer/direct-infer.ts';

/** A Content-Length that declaredBodyLimit takes as declared (longer ones go to hono's streaming limit). */
const DECLARED_LENGTH = /^\d{1,16}$/;
/**
 * Host headers @hono/node-server takes as they are (its `reValidHost`); any other host it parses as a
 * URL and may refuse with 400, so such requests go to it.
 */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;
/** @hono/node-server's bounds for draining a body the answer did not read (its DRAIN_TIMEOUT_MS, MAX_DRAIN_BYTES). */
const DRAIN_TIMEOUT_MS = 500;
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

const HTTP_WHITESPACE_ENDS = /^[\t\n\r ]+|[\t\n\r ]+$/g;

/**
 * Request headers as @hono/node-server's `Headers.get` gives them: from the raw header list, every
 * value of a name joined with ", " (Node's parsed `headers` keeps only the first Authorization or
 * Content-Type, which would differ), HTTP whitespace trimmed. Built on the first read.
 */
function headerReader(req: IncomingMessage): (name: string) => string | undefined {
  let map: Map<string, string> | undefined;
  return (name) => {
    if (!map) {
      map = new Map();
      const raw = req.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) {
        const lower = raw[i]!.toLowerCase();
        const value = raw[i + 1]!.replace(HTTP_WHITESPACE_ENDS, '');
        const before = map.get(lower);
        map.set(lower, before === undefined ? value : `${before}${lower === 'cookie' ? '; ' : ', '}${value}`);
      }
    }
    return map.get(name.toLowerCase());
  };
}

/** What @hono/node-server does with a body its answer left unread: read and drop it, within bounds, else close. */
function drain(req: IncomingMessage): void {
  if (req.readableEnded || req.destroyed) return;
  let bytesRead = 0;
  const cleanup = () => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', cleanup);
    req.off('error', cleanup);
  };
  const forceClose = () => {
    cleanup();
    if (!req.socket.destroyed) req.socket.destroySoon();
  };
  const timer = setTimeout(forceClose, DRAIN_TIMEOUT_MS);
  timer.unref();
  const onData = (chunk: Buffer) => {
    bytesRead += chunk.length;
    if (bytesRead > MAX_DRAIN_BYTES) forceClose();
  };
  req.on('data', onData);
  req.on('end', cleanup);
  req.on('error', cleanup);
  req.resume();
}

async function serveInfer(
  route: DirectInferRoute,
  req: IncomingMessage,
  res: ServerResponse,
  header: (name: string) => string | undefined,
) {
  try {
    const answer = await route.infer({ header, readBody: () => readDeclaredBody(req) });
    if (res.destroyed) return;
    res.writeHead(answer.status, { ...answer.headers, 'Content-Length': Buffer.byteLength(answer.body) });
    res.end(answer.body);
  } catch (err) {
    // The route answers its own errors; this is a bug, answered as @hono/node-server answers one.
    console.error(err);
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end();
  }
  if (!req.readableEnded) res.once('finish', () => drain(req));
}

/**
 * The gateway's app on Node's HTTP server with POST /v1/infer — the HTTP geo API's hot path — served
 * straight off the socket by the app's direct route (infer/direct-infer.ts: the same steps and
 * handler as the hono route), skipping @hono/node-server's web Request/Response, hono's routing and
 * middleware dispatch and the web-stream body read (~0.7 ms of the added p50 at concurrency 1 and
 * a large share of the CPU per request, profiled). Only a request it is sure about comes here: exactly
 * `POST /v1/infer`, a plain Content-Length, no Transfer-Encoding, a host @hono/node-server takes as it
 * is. Everything else (chunked bodies, a query string, OPTIONS preflights, other routes) is hono's.
 */
export function gatewayRequestListener(app: object, fallback: RequestListener): RequestListener {
  const route = directInferRoute(app);
  if (!route) return fallback;
  return (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/infer') return fallback(req, res);
    const header = headerReader(req);
    const length = header('content-length');
    if (
      length === undefined ||
      !DECLARED_LENGTH.test(length) ||
      header('transfer-encoding') !== undefined ||
      !PLAIN_HOST.test(req.headers.host ?? '')
    )
      return fallback(req, res);
    void serveInfer(route, req, res, header);
  };
}

/** protocol's `listenHttp` with POST /v1/infer served directly (`gatewayRequestListener`), all else by hono. */
export function listenGateway(options: {
  app: { fetch: (request: Request) => Response | Promise<Response> };
  port: number;
  host: string;
}): Promise<HttpListener> {
  return listenHttp({ ...options, wrap: (hono) => gatewayRequestListener(options.app, hono) });
}
