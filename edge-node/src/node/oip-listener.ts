import { EXCHANGE_PATH, HexEdgeError, MAX_EXCHANGE_BYTES } from '@hexedge/protocol';
import { listenHttp, readDeclaredBody, type HttpListener } from '@hexedge/protocol/node';
import type { Hono } from 'hono';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { errorAnswer, type HttpAnswer } from '../server/infer-handler.ts';
import { directInferRoute, type DirectInferRoute } from '../server/oip-app.ts';
import { getQueueWaiter, useQueueWaiter } from '../server/queue-wait.ts';
import { ThreadTimer } from './thread-timer.ts';

/**
 * `POST /v2/models/{name}[/versions/{v}]/infer` as hono routes it (no query, no %-escapes: those and
 * everything else go through hono). Path segments as hono's `:param` takes them: anything but `/`.
 */
const INFER_PATH = /^\/v2\/models\/([^/?%#]+)(?:\/versions\/([^/?%#]+))?\/infer$/;
const DIGITS = /^\d+$/;

/** A request header as `Headers.get` gives it (Node's parser has lower-cased names and joined repeats). */
const headerOf = (req: IncomingMessage) => (name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

function write(res: ServerResponse, answer: HttpAnswer): void {
  const length = typeof answer.body === 'string' ? Buffer.byteLength(answer.body) : answer.body.length;
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(length) });
  res.end(answer.body);
}

/** Serves one infer call off the socket: the same handler, limit and error answers as the hono route. */
async function serveInfer(
  route: DirectInferRoute,
  req: IncomingMessage,
  res: ServerResponse,
  path: RegExpExecArray,
) {
  let answer: HttpAnswer;
  try {
    if (Number(req.headers['content-length']) > route.maxBodyBytes)
      throw new HexEdgeError('PAYLOAD_TOO_LARGE', `request body exceeds ${route.maxBodyBytes} bytes`);
    answer = await route.infer({
      name: path[1]!,
      version: path[2],
      header: headerOf(req),
      readBody: () => readDeclaredBody(req),
    });
  } catch (err) {
    answer = errorAnswer(err);
  }
  if (!res.destroyed) write(res, answer);
}

/**
 * Serves one exchange (POST /v2/exchange) off the socket: the exchange's limit checked from its
 * declared length before a byte is read, then every part through the same handler as a single call.
 */
async function serveExchange(route: DirectInferRoute, req: IncomingMessage, res: ServerResponse) {
  let answer: HttpAnswer;
  try {
    if (Number(req.headers['content-length']) > MAX_EXCHANGE_BYTES)
      throw new HexEdgeError('PAYLOAD_TOO_LARGE', `exchange body exceeds ${MAX_EXCHANGE_BYTES} bytes`);
    answer = await route.exchange(await readDeclaredBody(req));
  } catch (err) {
    answer = errorAnswer(err);
  }
  if (!res.destroyed) write(res, answer);
}

/**
 * The OIP app on Node's HTTP server. Infer calls with a declared Content-Length (what the gateway and
 * every HTTP/1.1 client with a known body send) skip @hono/node-server's web Request/Response and hono's
 * routing — ~20 µs of CPU per call under load, profiled — and go straight to the app's infer handler;
 * every other request (chunked bodies included, whose limit hono's bodyLimit guards) is the app's.
 * Exchanges (`POST /v2/exchange` with a declared length) are served off the socket the same way.
 */
export function oipRequestListener(app: Hono, fallback: RequestListener): RequestListener {
  const route = directInferRoute(app);
  if (!route) return fallback;
  return (req, res) => {
    const post = req.method === 'POST';
    const exchange = post && req.url === EXCHANGE_PATH;
    const path = post && !exchange ? INFER_PATH.exec(req.url ?? '') : null;
    const length = req.headers['content-length'];
    if (
      (!path && !exchange) ||
      length === undefined ||
      req.headers['transfer-encoding'] !== undefined ||
      !DIGITS.test(length)
    )
      return fallback(req, res);
    if (exchange) void serveExchange(route, req, res);
    else void serveInfer(route, req, res, path!);
  };
}

/**
 * protocol's `listenHttp` with infer calls served directly (`oipRequestListener`), all else by hono.
 * Its schedulers' sub-millisecond queue delays are timed on a thread (thread-timer.ts), so a node
 * under light load sleeps while a lone request waits for company instead of spinning its event loop
 * (profiled: up to the whole delay of CPU per lone request).
 */
export function listenOip(options: { app: Hono; port: number; host: string }): Promise<HttpListener> {
  if (!getQueueWaiter()) useQueueWaiter(new ThreadTimer().wait);
  return listenHttp({ ...options, wrap: (hono) => oipRequestListener(options.app, hono) });
}
