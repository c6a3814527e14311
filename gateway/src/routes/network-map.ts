import { DEMAND_WINDOW_MS, type NodeRecord, type Placement } from '@hexedge/placement';
import { greatCircleDistanceKm } from '@hexedge/protocol';
import { cellToBoundary, cellToLatLng, cellToParent, getResolution, latLngToCell } from 'h3-js';
import { quantile, type RequestLog } from '../events/request-log.ts';
import { PUBLIC_EVENT_RES } from './dashboard-keys.ts';

/**
 * How long a built map, and the recent requests counted per area, are served as they are. The map is
 * public and the same for every caller, and building it reads every node and up to MAX_OBSERVATIONS
 * requests: cached, any number of callers cost at most one build per resolution per second. A second is
 * also how often the network stream samples the registry (DEFAULT_WATCH_INTERVAL_MS), so the map is
 * never staler than the live events next to it by more than that.
 */
export const NETWORK_MAP_CACHE_MS = 1_000;
/**
 * Slack on a hex's covering radius (the farthest boundary vertex from its centre): H3 cells are exact
 * polygons with great-circle edges, so no point inside is farther than a vertex; 1 % and 10 m absorb
 * rounding. Nodes found within it are then kept only if latLngToCell puts them in the hex.
 */
const CELL_RADIUS_SLACK = 1.01;
/**
 * Rows one hex's answer lists (`GET /v1/network/hexes/{cell}`), nearest the hex's centre first, with
 * `truncated: true` past it: a res-0/1 hex holds a continent's nodes, and each row reads the node's
 * status, trust and service figures. The dashboard's panel says to zoom in for the rest.
 */
export const MAX_HEX_DETAIL_NODES = 200;
const CELL_RADIUS_SLACK_KM = 0.01;

/**
 * The hex holding a node at `res`, from its location: H3 parents are not exact containers (a child
 * cell's parent can be a neighbour of the hex its centre falls in), so `cellToParent(node.cell)` would
 * now and then draw a node one hex off.
 */
const nodeCellAt = (node: NodeRecord, res: number) => latLngToCell(node.location.lat, node.location.lng, res);

/** Requests from one area over the demand window; the median is worked out once, when first asked for. */
interface RequestArea {
  demand: number;
  latencies: number[];
  p50LatencyMs?: number | null;
}

const p50Of = (area: RequestArea | undefined): number | null => {
  if (!area) return null;
  if (area.p50LatencyMs === undefined) area.p50LatencyMs = quantile(area.latencies, 0.5);
  return area.p50LatencyMs;
};

interface CellAcc {
  nodes: number;
  healthy: number;
  trust: number[];
  probation: number;
  area: RequestArea | undefined;
}

/** One map cell, with every metric. */
export interface HexRow {
  cell: string;
  lat: number;
  lng: number;
  nodes: number;
  healthy: number;
  coverage: number;
  meanTrust: number | null;
  probation: number;
  demand: number;
  p50LatencyMs: number | null;
  /** The resolution demand and latency are counted at (never finer than PUBLIC_EVENT_RES). */
  requestRes: number;
}

/**
 * Nodes and recent requests per H3 cell. Density, health and trust are where nodes are; demand and p50
 * latency are where requests came from (what callers there experience), over placement's demand window.
 * Coverage is "a healthy node is here" until the oracle's map is wired.
 *
 * Where requests came from is public no finer than the public event stream shows it (PUBLIC_EVENT_RES,
 * res 4, ~1,770 km²): at a finer `res` each cell carries its res-4 parent area's figures (the same for
 * every cell in it) and `requestRes` says so. A res-9 map would otherwise place a caller in a ~100 m cell.
 */
export class NetworkMap {
  readonly #maps = new Map<number, { builtAtMs: number; rows: readonly HexRow[] }>();
  readonly #areas = new Map<number, { builtAtMs: number; byCell: Map<string, RequestArea> }>();
  readonly options: { placement: Placement; requests: RequestLog; now: () => number };

  constructor(options: { placement: Placement; requests: RequestLog; now: () => number }) {
    this.options = options;
  }

  /** The whole map at `res` (a resolution the route has checked), built at most once per NETWORK_MAP_CACHE_MS. */
  hexes(res: number): readonly HexRow[] {
    const nowMs = this.options.now();
    const cached = this.#maps.get(res);
    if (cached && isFresh(cached.builtAtMs, nowMs)) return cached.rows;
    const rows = this.#build(res, nowMs);
    this.#maps.set(res, { builtAtMs: nowMs, rows });
    return rows;
  }

  /**
   * The nodes in one hex, nearest its centre first, at most `limit` (a res-0/1 hex is a continent):
   * found around the hex, not by a walk over the fleet, and the search stops at `limit` nodes in it.
   */
  nodesIn(cell: string, options: { limit: number }): NodeRecord[] {
    const res = getResolution(cell);
    const [lat, lng] = cellToLatLng(cell);
    const center = { lat, lng };
    let radiusKm = 0;
    for (const [vLat, vLng] of cellToBoundary(cell))
      radiusKm = Math.max(radiusKm, greatCircleDistanceKm(center, { lat: vLat, lng: vLng }));
    return this.options.placement
      .nodesWithin({
        location: center,
        radiusKm: radiusKm * CELL_RADIUS_SLACK + CELL_RADIUS_SLACK_KM,
        limit: options.limit,
        filter: (node) => nodeCellAt(node, res) === cell,
      })
      .map(({ node }) => node);
  }

  /**
   * One hex's demand and p50 latency, as its row on the map shows them (none when the map has no row:
   * a cell finer than PUBLIC_EVENT_RES shows request figures only where nodes are).
   */
  cellRequests(options: { cell: string; hasNodes: boolean }): {
    demand: number;
    p50LatencyMs: number | null;
  } {
    const { cell, hasNodes } = options;
    const res = getResolution(cell);
    const requestRes = Math.min(res, PUBLIC_EVENT_RES);
    if (requestRes < res && !hasNodes) return { demand: 0, p50LatencyMs: null };
    const areas = this.#requestAreas(requestRes, this.options.now());
    const area = areas.get(requestRes === res ? cell : cellToParent(cell, requestRes));
    return { demand: area?.demand ?? 0, p50LatencyMs: p50Of(area) };
  }

  /** Recent requests counted per cell at `requestRes` (≤ PUBLIC_EVENT_RES), at most once per NETWORK_MAP_CACHE_MS. */
  #requestAreas(requestRes: number, nowMs: number): Map<string, RequestArea> {
    const cached = this.#areas.get(requestRes);
    if (cached && isFresh(cached.builtAtMs, nowMs)) return cached.byCell;
    const byCell = new Map<string, RequestArea>();
    for (const o of this.options.requests.observations(nowMs - DEMAND_WINDOW_MS)) {
      if (!o.location) continue;
      const cell = latLngToCell(o.location.lat, o.location.lng, requestRes);
      let area = byCell.get(cell);
      if (!area) byCell.set(cell, (area = { demand: 0, latencies: [] }));
      area.demand++;
      if (o.ok) area.latencies.push(o.totalMs);
    }
    this.#areas.set(requestRes, { builtAtMs: nowMs, byCell });
    return byCell;
  }

  #build(res: number, nowMs: number): HexRow[] {
    const { placement } = this.options;
    const cells = new Map<string, CellAcc>();
    const at = (cell: string) => {
      let acc = cells.get(cell);
      if (!acc) cells.set(cell, (acc = { nodes: 0, healthy: 0, trust: [], probation: 0, area: undefined }));
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
    const areas = this.#requestAreas(requestRes, nowMs);
    if (requestRes === res) {
      for (const [cell, area] of areas) at(cell).area = area;
    } else {
      // Finer cells show only where nodes are; their request figures are their coarse area's.
      for (const [cell, acc] of cells) acc.area = areas.get(cellToParent(cell, requestRes));
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
        demand: a.area?.demand ?? 0,
        // Many fine cells share one area: its median is sorted out once, not once per cell.
        p50LatencyMs: p50Of(a.area),
        requestRes,
      };
    });
  }
}

/** Built within the cache period (and not in the future: a clock stepped back rebuilds). */
const isFresh = (builtAtMs: number, nowMs: number) =>
  nowMs >= builtAtMs && nowMs - builtAtMs < NETWORK_MAP_CACHE_MS;
