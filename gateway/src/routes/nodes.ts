import { HexEdgeError, MAX_NEAREST_K, toLatLng, type NearestNode } from '@hexedge/protocol';
import type { GatewayPlacement } from '../gateway-placement.ts';
import type { Context } from 'hono';
import { readJsonBody } from '../http-errors.ts';

/** Default number of nodes `GET /v1/nodes/nearest` returns. */
export const DEFAULT_NEAREST_K = 5;

function numberParam(c: Context, name: string): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw.trim() === '') throw new HexEdgeError('INVALID_REQUEST', `query parameter ${name} is required`);
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new HexEdgeError('INVALID_LOCATION', `query parameter ${name} must be a number, got ${JSON.stringify(raw)}`);
  return value;
}

/** GET /v1/nodes/nearest?lat=&lng=&model=&k= — healthy nodes nearest first, optionally serving a model. */
export function nearestHandler(placement: GatewayPlacement) {
  return async (c: Context) => {
    const location = toLatLng({ lat: numberParam(c, 'lat'), lng: numberParam(c, 'lng') }, 'location');
    const kRaw = c.req.query('k');
    const k = kRaw === undefined ? DEFAULT_NEAREST_K : Number(kRaw);
    if (!Number.isInteger(k) || k < 1 || k > MAX_NEAREST_K) {
      throw new HexEdgeError('INVALID_REQUEST', `k must be an integer in [1, ${MAX_NEAREST_K}], got ${JSON.stringify(kRaw)}`);
    }
    const model = c.req.query('model') || undefined;
    const nodes: NearestNode[] = (await placement.nearest({ location, k, ...(model ? { model } : {}) })).map(({ node, distanceKm }) => ({
      id: node.id,
      cell: node.cell,
      lat: node.location.lat,
      lng: node.location.lng,
      distanceKm: Math.round(distanceKm * 1000) / 1000,
      models: node.models.map((m) => ({ name: m.name, version: m.version, ready: m.ready })),
    }));
    return c.json({ nodes });
  };
}

/** GET /v1/nodes/{id}: what placement knows of one node (an operator's or developer's view). */
export function nodeHandler(placement: GatewayPlacement) {
  return async (c: Context) => {
    const id = c.req.param('id')!;
    const found = await placement.getNode(id);
    if (!found) throw new HexEdgeError('UNKNOWN_NODE', `no node with id ${JSON.stringify(id.slice(0, 80))} is registered`);
    const { node } = found;
    return c.json({
      id: node.id,
      status: found.status,
      cell: node.cell,
      lat: node.location.lat,
      lng: node.location.lng,
      hardware: node.hardware,
      models: node.models,
      registeredAtMs: node.registeredAtMs,
      lastHeartbeatAtMs: node.lastHeartbeatAtMs,
    });
  };
}

/** POST /v1/nodes/register and /v1/nodes/heartbeat: signed by the node's key, checked by the registry. */
export function registrationHandlers(placement: GatewayPlacement) {
  return {
    register: async (c: Context) => c.json(await placement.register(await readJsonBody(c))),
    heartbeat: async (c: Context) => c.json(await placement.heartbeat(await readJsonBody(c))),
  };
}
