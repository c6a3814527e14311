import { EARTH_RADIUS_KM, type LatLng } from '@hexedge/protocol';
import { cellToBoundary, cellToLatLng, getResolution, latLngToCell } from 'h3-js';

/**
 * Each placement shard owns the nodes whose res-2 H3 ancestor is its cell (5 882 cells, ~86 800 km²,
 * ~180 km edge; 12 of them pentagons). Measured on 100 000 population-weighted nodes
 * (bench/src/suites/worker.ts prints the same study): res 1 puts 3.4 % of all nodes (and of all
 * their heartbeats) in its busiest shard, res 2 1.5 %, res 3 1.1 %; the share of 5-nearest queries
 * that must visit a second shard grows with the resolution (see the README's table). Res 2 keeps the
 * busiest Durable Object near one thousand heartbeats per second at a 100 000-node, 1-s-heartbeat
 * scale while most queries still stay in one shard.
 */
export const SHARD_RESOLUTION = 2;

/**
 * Slack on the distance from a query to a shard's cell: covers the float error of the vector
 * arithmetic and of haversine (micrometres) with a wide margin, so the bound stays a lower bound.
 */
const BOUND_SLACK_KM = 0.5;
const DEG = Math.PI / 180;

type Vec3 = [number, number, number];

const toVec = (lat: number, lng: number): Vec3 => [Math.cos(lat * DEG) * Math.cos(lng * DEG), Math.cos(lat * DEG) * Math.sin(lng * DEG), Math.sin(lat * DEG)];
const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const angle = (a: Vec3, b: Vec3) => Math.atan2(Math.hypot(...cross(a, b)), dot(a, b));

interface Edge {
  a: Vec3;
  b: Vec3;
  /** Unit normal of the edge's great circle. */
  n: Vec3;
}

const edgesByCell = new Map<string, Edge[]>();

function edgesOf(cell: string): Edge[] {
  let edges = edgesByCell.get(cell);
  if (edges) return edges;
  const vs = cellToBoundary(cell).map(([lat, lng]) => toVec(lat, lng));
  edges = vs.map((a, i) => {
    const b = vs[(i + 1) % vs.length]!;
    const c = cross(a, b);
    const len = Math.hypot(...c);
    return { a, b, n: [c[0] / len, c[1] / len, c[2] / len] as Vec3 };
  });
  edgesByCell.set(cell, edges);
  return edges;
}

/** Angular distance from p to the great-circle arc a–b (radians). */
function arcDistance(p: Vec3, e: Edge): number {
  // The foot of the perpendicular lies on the arc when it is on the inner side of both end points.
  const t = cross(e.n, p);
  if (dot(cross(e.a, p), e.n) >= 0 && dot(cross(p, e.b), e.n) >= 0 && Math.hypot(...t) > 0) {
    return Math.abs(Math.asin(Math.max(-1, Math.min(1, dot(p, e.n)))));
  }
  return Math.min(angle(p, e.a), angle(p, e.b));
}

/** The shard cell (res SHARD_RESOLUTION) that owns a location. */
export function shardCellOf(location: LatLng, resolution = SHARD_RESOLUTION): string {
  return latLngToCell(location.lat, location.lng, resolution);
}

/**
 * A lower bound on the distance from `location` to any point H3 assigns to `cell`: 0 inside it,
 * otherwise the distance to its boundary minus BOUND_SLACK_KM. H3 cell edges are great-circle arcs
 * (straight lines in each icosahedron face's gnomonic projection; cellToBoundary adds a vertex where
 * an edge crosses a face), so the distance to the edge arcs is the distance to the cell.
 */
export function minDistanceToCellKm(location: LatLng, cell: string): number {
  if (latLngToCell(location.lat, location.lng, getResolution(cell)) === cell) return 0;
  const p = toVec(location.lat, location.lng);
  let best = Infinity;
  for (const e of edgesOf(cell)) best = Math.min(best, arcDistance(p, e));
  return Math.max(0, best * EARTH_RADIUS_KM - BOUND_SLACK_KM);
}

/** The centre of a shard's cell. */
export function shardCentre(cell: string): LatLng {
  const [lat, lng] = cellToLatLng(cell);
  return { lat, lng };
}
