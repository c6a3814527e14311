import type { RouteConfig } from '@hono/zod-openapi';
import type { Handler, MiddlewareHandler } from 'hono';
import type { GatewayEnv } from '../auth.ts';
import { mount, type GatewayApp } from './mount.ts';

/**
 * `mount` for the inference route: its request headers are in the document as `mount` puts them, but
 * are checked by the handler (`hintsFromHeaders`, with the same parse functions, so the same
 * HexEdgeError and message, before the body is read) instead of by zod-openapi's header validator,
 * which read every header into an object and ran zod over it on each request — a few per cent of the
 * gateway's CPU per inference, for headers the handler has to read again anyway.
 */
export function mountHeadersCheckedByHandler(
  app: GatewayApp,
  route: RouteConfig,
  ...chain: [...MiddlewareHandler<GatewayEnv>[], Handler<GatewayEnv>]
): void {
  app.openAPIRegistry.registerPath(route);
  const { headers: _documented, ...request } = route.request ?? {};
  mount(app, { ...route, request, hide: true }, ...chain);
}
