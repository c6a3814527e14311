import { HexEdgeError } from '@hexedge/protocol';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * The body limit, checked from Content-Length where the request has one (the HTTP parser holds the
 * body to its declared length), so the body is then read through the server's direct path. hono's
 * bodyLimit reads `c.req.raw.body`, which makes @hono/node-server build a full web Request and stream
 * for every request (~5 % of the gateway's CPU under load, profiled; the edge node does the same,
 * edge-node/src/server/oip-app.ts). It still guards chunked bodies, which have no length up front.
 */
export function declaredBodyLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new HexEdgeError('PAYLOAD_TOO_LARGE', `request body exceeds ${maxBytes} bytes`);
  };
  const streaming = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return (c, next) => {
    const length = c.req.header('content-length');
    const declared =
      length !== undefined && c.req.header('transfer-encoding') === undefined && /^\d{1,16}$/.test(length);
    if (!declared) return streaming(c, next);
    if (Number(length) > maxBytes) tooLarge();
    return next();
  };
}
