import { HexEdgeError } from '@hexedge/protocol';
import type { Placement } from '@hexedge/placement';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requireApiKey, type GatewayEnv } from '../auth.ts';
import { fleetEvent } from '../events/bridge-events.ts';
import { EventBus, type GatewayEvent } from '../events/event-bus.ts';
import { RequestLog } from '../events/request-log.ts';
import { sseResponse } from '../events/sse.ts';
import { readJsonBody } from '../http-errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { KeyLimiter } from '../keys/rate-limit.ts';
import { assetsHandler, type StaticAssets } from './dashboard-assets.ts';
import { canSee, fleetEventsHandler, observeInfer, usageDetailHandler } from './dashboard-keys.ts';
import { hexDetailHandler, hexesHandler, NetworkWatcher } from './dashboard-network.ts';
import { operatorHandler, type OracleReader } from './dashboard-operator.ts';

export interface DashboardOptions {
  /** The bus the gateway, MQTT ingress and firmware bridge publish to; one is made when absent. */
  events?: EventBus;
  requests?: RequestLog;
  /** The built dashboard's files; without it /dashboard says how to build them. */
  staticAssets?: StaticAssets;
  /** The coverage oracle's view of nodes; without it the operator view says no oracle runs. */
  oracle?: OracleReader;
  /** How often the network watcher samples the registry while a map is open. */
  watchIntervalMs?: number;
  now?: () => number;
}

/** A bridge result or error is a few kB; 64 KiB bounds a posted one. */
export const MAX_EVENT_BODY_BYTES = 64 * 1024;
/** The registry changes at heartbeat pace (seconds); sampling faster would show nothing new. */
export const DEFAULT_WATCH_INTERVAL_MS = 1_000;
/** Events replayed to a new stream: enough for the views' recent-history lists and charts. */
const REPLAY = 200;

/**
 * The dashboards' HTTP side: the built page at /dashboard, the data endpoints its views read, and
 * SSE streams (public network events; per-key developer and fleet events, the key sent as a bearer
 * token by a fetch stream since EventSource cannot send headers). Call before the /v1/infer route:
 * it watches that route's answers.
 */
export function mountDashboard(
  app: Hono<GatewayEnv>,
  options: DashboardOptions & { placement: Placement; keys: KeyRing; limiter: KeyLimiter },
) {
  const { placement, keys, limiter, oracle } = options;
  const now = options.now ?? Date.now;
  const events = options.events ?? new EventBus({ now });
  const requests = options.requests ?? new RequestLog();
  const watcher = new NetworkWatcher({
    placement,
    events,
    intervalMs: options.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS,
  });
  const reader = requireApiKey({ keys, limiter, metered: false });
  const admin = requireApiKey({ keys, limiter, role: 'admin', metered: false });

  app.use('/v1/infer', observeInfer({ requests, events, now }));

  app.get('/dashboard', (c) => c.redirect('/dashboard/', 301));
  app.get('/dashboard/*', assetsHandler(options.staticAssets));

  app.get('/v1/network/hexes', hexesHandler({ placement, requests, now }));
  app.get('/v1/network/hexes/:cell', hexDetailHandler({ placement, requests, oracle, now }));
  app.get('/v1/nodes/:id/operator', operatorHandler({ placement, requests, oracle }));
  app.get('/v1/usage/detail', reader, usageDetailHandler({ requests, now }));
  app.get('/v1/fleet/events', reader, fleetEventsHandler(events));

  const stream = (filter: (e: GatewayEvent) => boolean, signal: AbortSignal, onOpen?: () => () => void) =>
    sseResponse({
      replay: events.recent(filter, REPLAY),
      subscribe: (send) => {
        const release = onOpen?.() ?? (() => {});
        const unsubscribe = events.subscribe(filter, send);
        return () => (unsubscribe(), release());
      },
      signal,
    });
  app.get('/v1/events/network', (c) =>
    stream(
      (e) => e.audience.kind === 'public',
      c.req.raw.signal,
      () => watcher.watch(),
    ),
  );
  app.get('/v1/events/developer', reader, (c) =>
    stream((e) => canSee(c.get('apiKey'), e, 'developer'), c.req.raw.signal),
  );
  app.get('/v1/events/fleet', reader, (c) =>
    stream((e) => canSee(c.get('apiKey'), e, 'fleet'), c.req.raw.signal),
  );

  // Where a firmware bridge in another process posts its results and errors (admin key).
  const limit = bodyLimit({
    maxSize: MAX_EVENT_BODY_BYTES,
    onError: () => {
      throw new HexEdgeError('PAYLOAD_TOO_LARGE', `event body exceeds ${MAX_EVENT_BODY_BYTES} bytes`);
    },
  });
  app.post('/v1/events', admin, limit, async (c) =>
    c.json({ id: events.publish(fleetEvent(await readJsonBody(c))).id }, 202),
  );

  return { events, requests, watcher };
}
