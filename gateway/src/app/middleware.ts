// What runs around every route, whichever group it belongs to: the request id, CORS, one metrics
// and log observation per request, and the error and not-found answers in the one error shape.
import { HexEdgeError } from '@hexedge/protocol';
import type { Context } from 'hono';
import { requestId } from 'hono/request-id';
import { matchedRoutes } from 'hono/route';
import { publicCors } from '../cors.ts';
import { errorResponse } from '../http-errors.ts';
import { httpObservations, type GatewayObserver } from '../observe.ts';
import type { GatewayApp } from '../openapi/mount.ts';

/** CORS for every route (cors.ts); the direct infer path sets the same headers. */
export const CORS = {
  allowHeaders: [
    'Authorization',
    'Content-Type',
    'Cache-Control',
    'traceparent',
    'X-HexEdge-Priority',
    'X-HexEdge-Deadline-Ms',
  ],
  exposeHeaders: [
    'X-Request-Id',
    'X-HexEdge-Cache',
    'traceparent',
    'Retry-After',
    'RateLimit-Limit',
    'RateLimit-Remaining',
    'RateLimit-Reset',
  ],
};

/** The route pattern that answered (`/v1/nodes/:id`), never the raw path, so metric labels stay bounded. */
function respondingRoute(c: Context): string {
  const route = matchedRoutes(c)[c.req.routeIndex];
  return route && route.path !== '/*' && route.path !== '*' ? route.path : 'unmatched';
}

/**
 * Registers the gateway-wide middleware and error handlers on `app`, before any route; returns the
 * observation it records each request with (the direct infer path, outside hono, records through it).
 */
export function useGatewayMiddleware(
  app: GatewayApp,
  o: { observer: GatewayObserver; log: (entry: Record<string, unknown>) => void },
): ReturnType<typeof httpObservations> {
  app.use(requestId({ headerName: 'X-Request-Id' }));
  app.use(publicCors(CORS));
  const observed = httpObservations(o);
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    observed({
      route: respondingRoute(c),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      startedMs: started,
      requestId: c.get('requestId'),
      keyId: c.get('apiKey')?.id,
    });
  });
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) =>
    errorResponse(c, new HexEdgeError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)),
  );
  return observed;
}
