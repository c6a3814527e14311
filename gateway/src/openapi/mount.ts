import { OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Handler, MiddlewareHandler } from 'hono';
import type { GatewayEnv } from '../auth.ts';
import { validationHook } from './params.ts';

/** The gateway's hono app: every route is registered through its OpenAPI definition. */
export type GatewayApp = OpenAPIHono<GatewayEnv>;

export const createGatewayHono = (): GatewayApp =>
  new OpenAPIHono<GatewayEnv>({ defaultHook: validationHook as never });

/**
 * Serves `route` as hono would `app[method](path, ...middleware, handler)`: the middleware (auth, body
 * limits) runs first, then zod-openapi's parameter validation, then the handler; the route joins the
 * document.
 */
export function mount(
  app: GatewayApp,
  route: RouteConfig,
  ...chain: [...MiddlewareHandler<GatewayEnv>[], Handler<GatewayEnv>]
): void {
  const handler = chain.at(-1) as Handler<GatewayEnv>;
  const middleware = chain.slice(0, -1) as MiddlewareHandler<GatewayEnv>[];
  app.openapi({ ...route, ...(middleware.length ? { middleware } : {}) }, handler as never);
}
