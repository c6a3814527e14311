import { HexEdgeError } from '@hexedge/protocol';
import type { Placement } from '@hexedge/placement';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requireApiKey } from '../auth.ts';
import { fleetEvent } from '../events/bridge-events.ts';
import { EventBus, type GatewayEvent } from '../events/event-bus.ts';
import { RequestLog } from '../events/request-log.ts';
import { sseResponse } from '../events/sse.ts';
import { readJsonBody } from '../http-errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import {
  dashboardAssetRoute,
  dashboardIndexRoute,
  dashboardRedirectRoute,
  developerStreamRoute,
  fleetEventsRoute,
  fleetStreamRoute,
  hexDetailRoute,
  hexesRoute,
  networkStreamRoute,
  operatorRoute,
  postEventRoute,
  usageDetailRoute,
} from '../openapi/dashboard-routes.ts';
import { mount, type GatewayApp } from '../openapi/mount.ts';
import type { KeyLimiter } from '../keys/rate-limit.ts';
import { assetsHandler, type StaticAssets } from './dashboard-assets.ts';
import {
  canSee,
  fleetEventsHandler,
  inferRecorder,
  observeInfer,
  usageDetailHandler,
} from './dashboard-keys.ts';
import { hexDetailHandler, hexesHandler, NetworkWatcher } from './dashboard-network.ts';
import { NetworkMap } from './network-map.ts';
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
  /** Open event streams at once, all together and per client (IP for the public stream, key otherwise). */
  eventStreams?: { max?: number; perClient?: number };
  /** The client's IP address (the public stream's per-client bound). */
  clientIp?: (c: Context) => string | undefined;
}

/** Default bounds on open event streams: each holds a socket, a timer and up to MAX_SSE_BACKLOG events. */
export const DEFAULT_MAX_EVENT_STREAMS = 256;
export const DEFAULT_MAX_EVENT_STREAMS_PER_CLIENT = 8;

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
  app: GatewayApp,
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
  // The same watch for the Node listener's direct infer path.
  const recordInfer = inferRecorder({ requests, events, now });

  mount(app, dashboardRedirectRoute, (c) => c.redirect('/dashboard/', 301));
  const assets = assetsHandler(options.staticAssets);
  mount(app, dashboardIndexRoute, assets);
  // An asset path has slashes (`assets/index-1a2b.js`): hono routes it by a pattern the document
  // cannot spell, so the route is documented as `/dashboard/{asset}` and served here.
  app.openAPIRegistry.registerPath(dashboardAssetRoute);
  app.get('/dashboard/:asset{.+}', assets);

  const map = new NetworkMap({ placement, requests, now });
  mount(app, hexesRoute, hexesHandler({ map }));
  mount(app, hexDetailRoute, hexDetailHandler({ map, placement, requests, oracle }));
  mount(app, operatorRoute, operatorHandler({ placement, requests, oracle }));
  mount(app, usageDetailRoute, reader, usageDetailHandler({ requests, now }));
  mount(app, fleetEventsRoute, reader, fleetEventsHandler(events));

  const slots = new StreamSlots({
    max: options.eventStreams?.max ?? DEFAULT_MAX_EVENT_STREAMS,
    perClient: options.eventStreams?.perClient ?? DEFAULT_MAX_EVENT_STREAMS_PER_CLIENT,
  });
  const stream = (
    client: string,
    filter: (e: GatewayEvent) => boolean,
    signal: AbortSignal,
    onOpen?: () => () => void,
  ) => {
    const freeSlot = slots.take(client);
    return sseResponse({
      replay: events.recent(filter, REPLAY),
      subscribe: (send) => {
        const release = onOpen?.() ?? (() => {});
        const unsubscribe = events.subscribe(filter, send);
        return () => (unsubscribe(), release(), freeSlot());
      },
      signal,
    });
  };
  const ipOf = (c: Context) => `ip:${options.clientIp?.(c) ?? 'unknown'}`;
  mount(app, networkStreamRoute, (c) =>
    stream(
      ipOf(c),
      (e) => e.audience.kind === 'public',
      c.req.raw.signal,
      () => watcher.watch(),
    ),
  );
  mount(app, developerStreamRoute, reader, (c) =>
    stream(`key:${c.get('apiKey').id}`, (e) => canSee(c.get('apiKey'), e, 'developer'), c.req.raw.signal),
  );
  mount(app, fleetStreamRoute, reader, (c) =>
    stream(`key:${c.get('apiKey').id}`, (e) => canSee(c.get('apiKey'), e, 'fleet'), c.req.raw.signal),
  );

  // Where a firmware bridge in another process posts its results and errors (admin key).
  const limit = bodyLimit({
    maxSize: MAX_EVENT_BODY_BYTES,
    onError: () => {
      throw new HexEdgeError('PAYLOAD_TOO_LARGE', `event body exceeds ${MAX_EVENT_BODY_BYTES} bytes`);
    },
  });
  mount(app, postEventRoute, admin, limit, async (c) =>
    c.json({ id: events.publish(fleetEvent(await readJsonBody(c))).id }, 202),
  );

  return { events, requests, watcher, recordInfer };
}

/**
 * Counts open event streams, overall and per client: public SSE needs no key, so without a bound
 * anyone could hold thousands of sockets, timers and backlogs open. A stream past either bound is
 * refused with 503 OVERLOADED and Retry-After; a closed stream gives its slot back.
 */
class StreamSlots {
  readonly #perClient = new Map<string, number>();
  readonly #o: { max: number; perClient: number };
  #open = 0;

  constructor(options: { max: number; perClient: number }) {
    this.#o = options;
  }

  take(client: string): () => void {
    const mine = this.#perClient.get(client) ?? 0;
    if (mine >= this.#o.perClient || this.#open >= this.#o.max) {
      throw new HexEdgeError(
        'OVERLOADED',
        mine >= this.#o.perClient
          ? `${this.#o.perClient} event streams are already open for this client; close one first`
          : `${this.#o.max} event streams are open; retry later`,
        { retryAfterMs: 5_000 },
      );
    }
    this.#perClient.set(client, mine + 1);
    this.#open++;
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      this.#open--;
      const left = (this.#perClient.get(client) ?? 1) - 1;
      if (left <= 0) this.#perClient.delete(client);
      else this.#perClient.set(client, left);
    };
  }
}
