// The composition of the gateway's hono app: the defaults taken once from the options, the
// middleware, then each route group in turn (hono tries routes in the order they were registered).
// What each group mounts is in ./app/*-wiring.ts; what the options mean is in ./app/options.ts.
import { Placement } from '@hexedge/placement';
import { requireApiKey } from './auth.ts';
import { MemoryModelCatalog } from './catalog.ts';
import { localPlacement, type GatewayPlacement } from './gateway-placement.ts';
import type { InferService } from './infer/infer-service.ts';
import { RateLimiter, type KeyLimiter } from './keys/rate-limit.ts';
import { noObserver } from './observe.ts';
import { createGatewayHono, type GatewayApp } from './openapi/mount.ts';
import { mountDashboard } from './routes/dashboard.ts';
import { TraceBook } from './trace/trace-book.ts';
import { UsageBook } from './usage.ts';
import { mountAdminRoutes } from './app/admin-wiring.ts';
import { createInferService, mountInferRoutes } from './app/infer-wiring.ts';
import { useGatewayMiddleware } from './app/middleware.ts';
import { mountModelRoutes } from './app/model-wiring.ts';
import { mountNodeRoutes } from './app/node-wiring.ts';
import type { GatewayAppOptions, GatewayWiring } from './app/options.ts';
import { mountOracleRoutes } from './app/oracle-wiring.ts';
import { mountServiceRoutes } from './app/service-wiring.ts';

/** The gateway's HTTP API as a runtime-neutral hono app (served by the Node adapter, later a Worker). */
export function createGatewayApp(options: GatewayAppOptions): {
  app: GatewayApp;
  service: InferService;
  usage: UsageBook;
  limiter: KeyLimiter;
  traces: TraceBook;
} {
  const { keys } = options;
  const local = options.placement instanceof Placement ? options.placement : undefined;
  const placement = local ? localPlacement(local) : (options.placement as GatewayPlacement);
  const log = options.log ?? (() => {});
  const limiter: KeyLimiter = options.limiter ?? new RateLimiter();
  const usage = new UsageBook();
  const catalog = options.catalog ?? new MemoryModelCatalog();
  const traces = options.traces ?? new TraceBook();
  const service = createInferService({ options, placement, catalog, traces, log });
  const app = createGatewayHono();

  const observed = useGatewayMiddleware(app, { observer: options.observer ?? noObserver, log });
  const dashboard = local
    ? mountDashboard(app, {
        ...options.dashboard,
        ...(options.clientIp ? { clientIp: options.clientIp } : {}),
        placement: local,
        keys,
        limiter,
      })
    : undefined;

  const wiring: GatewayWiring = {
    options,
    placement,
    local,
    keys,
    limiter,
    catalog,
    service,
    usage,
    traces,
    observed,
    dashboard,
    auth: requireApiKey({ keys, limiter }),
    admin: requireApiKey({ keys, limiter, role: 'admin' }),
    authUnmetered: requireApiKey({ keys, limiter, metered: false }),
  };
  mountServiceRoutes(app, wiring);
  mountNodeRoutes(app, wiring);
  mountOracleRoutes(app, wiring);
  mountInferRoutes(app, wiring);
  mountModelRoutes(app, wiring);
  mountAdminRoutes(app, wiring);
  return { app, service, usage, limiter, traces };
}
