import { DEMAND_WINDOW_MS, type Placement } from '@hexedge/placement';
import { getResolution } from 'h3-js';
import type { Context } from 'hono';
import type { EventBus } from '../events/event-bus.ts';
import type { RequestLog } from '../events/request-log.ts';
import { hexDetailParams, hexesQuery, type HexMetric } from '../openapi/dashboard-routes.ts';
import { valid } from '../openapi/params.ts';
import type { OracleReader } from './dashboard-operator.ts';
import { MAX_HEX_DETAIL_NODES, type HexRow, type NetworkMap } from './network-map.ts';

const valueOf: Record<HexMetric, (h: HexRow) => number | null> = {
  coverage: (h) => h.coverage,
  density: (h) => h.nodes,
  trust: (h) => h.meanTrust,
  demand: (h) => h.demand,
  latency: (h) => h.p50LatencyMs,
};

/** GET /v1/network/hexes?res=&metric= (public): the map's cells, each with every metric and `value`. */
export function hexesHandler(options: { map: NetworkMap }) {
  return (c: Context) => {
    const { res, metric } = valid(c, 'query', hexesQuery);
    return c.json({
      res,
      metric,
      windowMs: DEMAND_WINDOW_MS,
      coverageSource: 'healthy-nodes',
      cells: options.map.hexes(res).map((h) => ({ ...h, value: valueOf[metric](h) })),
    });
  };
}

/**
 * GET /v1/network/hexes/{cell} (public): the nodes in one hex with their health, trust and load. Costs
 * what the hex holds, at most MAX_HEX_DETAIL_NODES rows (nearest its centre; `truncated` says there
 * are more): its nodes are found around it in placement's index, its request figures read from the
 * map's per-area counts.
 */
export function hexDetailHandler(options: {
  map: NetworkMap;
  placement: Placement;
  requests: RequestLog;
  oracle: OracleReader | undefined;
}) {
  return async (c: Context) => {
    const { cell } = valid(c, 'param', hexDetailParams);
    const res = getResolution(cell);
    const { placement, requests } = options;
    // One more than is shown: it says whether the hex holds more (without counting a continent).
    const found = options.map.nodesIn(cell, { limit: MAX_HEX_DETAIL_NODES + 1 });
    const truncated = found.length > MAX_HEX_DETAIL_NODES;
    const inCell = truncated ? found.slice(0, MAX_HEX_DETAIL_NODES) : found;
    const { demand, p50LatencyMs } = options.map.cellRequests({ cell, hasNodes: inCell.length > 0 });
    const nodes = inCell.map((n) => ({
      id: n.id,
      status: placement.registry.statusOf(n),
      lat: n.location.lat,
      lng: n.location.lng,
      trust: placement.getTrust(n.id),
      models: n.models.map((m) => ({ name: m.name, version: m.version, ready: m.ready })),
      queueDepth: n.models.reduce((s, m) => s + (m.load?.queueDepth ?? 0), 0),
      lastHeartbeatAtMs: n.lastHeartbeatAtMs,
      served: requests.nodeStats(n.id),
    }));
    const signal = (await options.oracle?.hexSignal?.(cell)) ?? null;
    return c.json({ cell, res, demand, p50LatencyMs, windowMs: DEMAND_WINDOW_MS, signal, nodes, truncated });
  };
}

/**
 * Turns registry state into live events while someone watches: heartbeats, status changes (a node
 * turns unhealthy by *missing* heartbeats, which no request announces) and removals. Sampling keeps
 * the registry free of dashboard hooks; the timer runs only while a network stream is open.
 */
export class NetworkWatcher {
  readonly #seen = new Map<string, { status: string; heartbeatMs: number }>();
  #watchers = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  readonly options: { placement: Placement; events: EventBus; intervalMs: number };

  constructor(options: { placement: Placement; events: EventBus; intervalMs: number }) {
    this.options = options;
  }

  /** Starts sampling (if not yet); returns the function that releases this watcher. */
  watch(): () => void {
    if (this.#watchers++ === 0) {
      this.sample();
      this.#timer = setInterval(() => this.sample(), this.options.intervalMs);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#watchers === 0) clearInterval(this.#timer);
    };
  }

  sample(): void {
    const { placement, events } = this.options;
    const present = new Set<string>();
    for (const node of placement.registry.values()) {
      present.add(node.id);
      const status = placement.registry.statusOf(node);
      const before = this.#seen.get(node.id);
      this.#seen.set(node.id, { status, heartbeatMs: node.lastHeartbeatAtMs });
      if (before && before.status !== status)
        events.publish({
          type: 'node.status',
          audience: { kind: 'public' },
          data: { id: node.id, status, was: before.status },
        });
      if (!before || before.heartbeatMs !== node.lastHeartbeatAtMs) {
        events.publish({
          type: 'node.heartbeat',
          audience: { kind: 'public' },
          data: {
            id: node.id,
            status,
            cell: node.cell,
            lastHeartbeatAtMs: node.lastHeartbeatAtMs,
            queueDepth: node.models.reduce((s, m) => s + (m.load?.queueDepth ?? 0), 0),
            inFlight: node.models.reduce((s, m) => s + (m.load?.inFlight ?? 0), 0),
            modelsReady: node.models.filter((m) => m.ready).length,
          },
        });
      }
    }
    for (const id of this.#seen.keys()) {
      if (present.has(id)) continue;
      this.#seen.delete(id);
      events.publish({ type: 'node.removed', audience: { kind: 'public' }, data: { id } });
    }
  }
}
