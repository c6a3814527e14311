import { DEMAND_WINDOW_MS, type NodeRecord, type Placement } from '@hexedge/placement';
import { cellToLatLng, cellToParent, getResolution, latLngToCell } from 'h3-js';
import type { Context } from 'hono';
import type { EventBus } from '../events/event-bus.ts';
import { quantile, type RequestLog } from '../events/request-log.ts';
import { hexDetailParams, hexesQuery, type HexMetric } from '../openapi/dashboard-routes.ts';
import { valid } from '../openapi/params.ts';
import { PUBLIC_EVENT_RES } from './dashboard-keys.ts';
import type { OracleReader } from './dashboard-operator.ts';

interface CellAcc {
  nodes: number;
  healthy: number;
  trust: number[];
  probation: number;
  demand: number;
  latencies: number[];
}

/**
 * The hex holding a node at `res`, from its location: H3 parents are not exact containers (a child
 * cell's parent can be a neighbour of the hex its centre falls in), so `cellToParent(node.cell)` would
 * now and then draw a node one hex off.
 */
const nodeCellAt = (node: NodeRecord, res: number) => latLngToCell(node.location.lat, node.location.lng, res);

/**
 * Nodes and recent requests per H3 cell at `res`. Density, health and trust are where nodes are;
 * demand and p50 latency are where requests came from (what callers there experience), over
 * placement's demand window. Coverage is "a healthy node is here" until the oracle's map is wired.
 *
 * Where requests came from is public no finer than the public event stream shows it (PUBLIC_EVENT_RES,
 * res 4, ~1,770 km²): at a finer `res` each cell carries its res-4 parent area's figures (the same for
 * every cell in it) and `requestRes` says so. A res-9 map would otherwise place a caller in a ~100 m cell.
 */
export function networkHexes(options: {
  placement: Placement;
  requests: RequestLog;
  res: number;
  nowMs: number;
}) {
  const { placement, requests, res } = options;
  const cells = new Map<string, CellAcc>();
  const at = (cell: string) => {
    let acc = cells.get(cell);
    if (!acc)
      cells.set(cell, (acc = { nodes: 0, healthy: 0, trust: [], probation: 0, demand: 0, latencies: [] }));
    return acc;
  };
  for (const node of placement.registry.values()) {
    const acc = at(nodeCellAt(node, res));
    acc.nodes++;
    if (placement.registry.statusOf(node) === 'healthy') acc.healthy++;
    const trust = placement.getTrust(node.id);
    if (trust.probation) acc.probation++;
    else acc.trust.push(trust.score);
  }
  // Requests are counted per cell at no finer than PUBLIC_EVENT_RES, then shown on the cells inside it.
  const requestRes = Math.min(res, PUBLIC_EVENT_RES);
  const byRequestCell = new Map<string, { demand: number; latencies: number[] }>();
  for (const o of requests.observations(options.nowMs - DEMAND_WINDOW_MS)) {
    if (!o.location) continue;
    const cell = latLngToCell(o.location.lat, o.location.lng, requestRes);
    let acc = byRequestCell.get(cell);
    if (!acc) byRequestCell.set(cell, (acc = { demand: 0, latencies: [] }));
    acc.demand++;
    if (o.ok) acc.latencies.push(o.totalMs);
  }
  if (requestRes === res) {
    for (const [cell, r] of byRequestCell) {
      const acc = at(cell);
      acc.demand = r.demand;
      acc.latencies = r.latencies;
    }
  } else {
    // Finer cells show only where nodes are; their request figures are their coarse area's.
    for (const [cell, acc] of cells) {
      const area = byRequestCell.get(cellToParent(cell, requestRes));
      if (!area) continue;
      acc.demand = area.demand;
      acc.latencies = area.latencies;
    }
  }
  return [...cells].map(([cell, a]) => {
    const [lat, lng] = cellToLatLng(cell);
    return {
      cell,
      lat,
      lng,
      nodes: a.nodes,
      healthy: a.healthy,
      coverage: a.healthy > 0 ? 1 : 0,
      // Nodes on probation have no oracle score yet; averaging in the 0.5 default would invent one.
      meanTrust: a.trust.length
        ? Math.round((a.trust.reduce((s, t) => s + t, 0) / a.trust.length) * 1000) / 1000
        : null,
      probation: a.probation,
      demand: a.demand,
      p50LatencyMs: quantile(a.latencies, 0.5),
      /** The resolution demand and latency are counted at (never finer than PUBLIC_EVENT_RES). */
      requestRes,
    };
  });
}

type HexRow = ReturnType<typeof networkHexes>[number];
const valueOf: Record<HexMetric, (h: HexRow) => number | null> = {
  coverage: (h) => h.coverage,
  density: (h) => h.nodes,
  trust: (h) => h.meanTrust,
  demand: (h) => h.demand,
  latency: (h) => h.p50LatencyMs,
};

/** GET /v1/network/hexes?res=&metric= (public): the map's cells, each with every metric and `value`. */
export function hexesHandler(options: { placement: Placement; requests: RequestLog; now: () => number }) {
  return (c: Context) => {
    const { res, metric } = valid(c, 'query', hexesQuery);
    const rows = networkHexes({ ...options, res, nowMs: options.now() });
    return c.json({
      res,
      metric,
      windowMs: DEMAND_WINDOW_MS,
      coverageSource: 'healthy-nodes',
      cells: rows.map((h) => ({ ...h, value: valueOf[metric](h) })),
    });
  };
}

/** GET /v1/network/hexes/{cell} (public): the nodes in one hex with their health, trust and load. */
export function hexDetailHandler(options: {
  placement: Placement;
  requests: RequestLog;
  oracle: OracleReader | undefined;
  now: () => number;
}) {
  return async (c: Context) => {
    const { cell } = valid(c, 'param', hexDetailParams);
    const res = getResolution(cell);
    const { placement, requests } = options;
    const summary = networkHexes({ placement, requests, res, nowMs: options.now() }).find(
      (h) => h.cell === cell,
    );
    const nodes = [...placement.registry.values()]
      .filter((n) => nodeCellAt(n, res) === cell)
      .map((n) => ({
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
    return c.json({
      cell,
      res,
      demand: summary?.demand ?? 0,
      p50LatencyMs: summary?.p50LatencyMs ?? null,
      windowMs: DEMAND_WINDOW_MS,
      signal,
      nodes,
    });
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
