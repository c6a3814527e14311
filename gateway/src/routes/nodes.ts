import { modelsForJoiningNode } from '@hexedge/placement';
import {
  EXECUTION_PROVIDERS,
  HexEdgeError,
  MAX_NEAREST_K,
  toLatLng,
  type DesiredModelsAnswer,
  type ExecutionProvider,
  type NearestNode,
} from '@hexedge/protocol';
import type { ModelCatalog } from '../catalog.ts';
import type { GatewayPlacement } from '../gateway-placement.ts';
import type { Context } from 'hono';
import { readJsonBody } from '../http-errors.ts';
import { checkNodeUrl, type NodeUrlPolicy } from '../node-urls.ts';
import type { NodeMessageLimits } from './node-message-limits.ts';

/** Default number of nodes `GET /v1/nodes/nearest` returns. */
export const DEFAULT_NEAREST_K = 5;

function numberParam(c: Context, name: string): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw.trim() === '')
    throw new HexEdgeError('INVALID_REQUEST', `query parameter ${name} is required`);
  const value = Number(raw);
  if (!Number.isFinite(value))
    throw new HexEdgeError(
      'INVALID_LOCATION',
      `query parameter ${name} must be a number, got ${JSON.stringify(raw)}`,
    );
  return value;
}

/** GET /v1/nodes/nearest?lat=&lng=&model=&k= — healthy nodes nearest first, optionally serving a model. */
export function nearestHandler(placement: GatewayPlacement) {
  return async (c: Context) => {
    const location = toLatLng({ lat: numberParam(c, 'lat'), lng: numberParam(c, 'lng') }, 'location');
    const kRaw = c.req.query('k');
    const k = kRaw === undefined ? DEFAULT_NEAREST_K : Number(kRaw);
    if (!Number.isInteger(k) || k < 1 || k > MAX_NEAREST_K) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `k must be an integer in [1, ${MAX_NEAREST_K}], got ${JSON.stringify(kRaw)}`,
      );
    }
    const model = c.req.query('model') || undefined;
    const nodes: NearestNode[] = (await placement.nearest({ location, k, ...(model ? { model } : {}) })).map(
      ({ node, distanceKm }) => ({
        id: node.id,
        cell: node.cell,
        lat: node.location.lat,
        lng: node.location.lng,
        distanceKm: Math.round(distanceKm * 1000) / 1000,
        models: node.models.map((m) => ({ name: m.name, version: m.version, ready: m.ready })),
      }),
    );
    return c.json({ nodes });
  };
}

/** GET /v1/nodes/{id}: what placement knows of one node (an operator's or developer's view). */
export function nodeHandler(placement: GatewayPlacement) {
  return async (c: Context) => {
    const id = c.req.param('id')!;
    const found = await placement.getNode(id);
    if (!found)
      throw new HexEdgeError(
        'UNKNOWN_NODE',
        `no node with id ${JSON.stringify(id.slice(0, 80))} is registered`,
      );
    const { node } = found;
    return c.json({
      id: node.id,
      status: found.status,
      cell: node.cell,
      lat: node.location.lat,
      lng: node.location.lng,
      locationVerified: node.locationVerified,
      hardware: node.hardware,
      models: node.models,
      registeredAtMs: node.registeredAtMs,
      lastHeartbeatAtMs: node.lastHeartbeatAtMs,
      ...(found.trust ? { trust: found.trust } : {}),
    });
  };
}

/**
 * POST /v1/nodes/register and /v1/nodes/heartbeat: signed by the node's key, checked by the registry.
 * The client address's rate comes first (no work for a flood), then the node URL policy (a
 * registration may not point the gateway at its own network), then the registry (signature, replay,
 * the per-node rate, the write).
 */
export function registrationHandlers(
  placement: GatewayPlacement,
  options: {
    nodeUrls: NodeUrlPolicy;
    limits?: NodeMessageLimits;
    clientIp?: (c: Context) => string | undefined;
  } = { nodeUrls: { allowPrivate: false } },
) {
  const ipOf = (c: Context) => options.clientIp?.(c);
  return {
    register: async (c: Context) => {
      options.limits?.checkIp(ipOf(c), 'registration');
      const message = await readJsonBody(c);
      const url = (message as { body?: { url?: unknown } } | null)?.body?.url;
      if (typeof url === 'string') await checkNodeUrl(url, options.nodeUrls);
      return c.json(await placement.register(message));
    },
    heartbeat: async (c: Context) => {
      options.limits?.checkIp(ipOf(c), 'heartbeat');
      return c.json(await placement.heartbeat(await readJsonBody(c)));
    },
  };
}

/** Memory a joining node may claim, MiB: from a 64 MiB gateway board to a 16 TiB server. */
const MIN_MEMORY_MB = 64;
const MAX_MEMORY_MB = 16 * 2 ** 20;

/** GET /v1/nodes/desired-models?lat=&lng=&memoryMb=&providers= — what a joining node should pull first. */
export function desiredModelsHandler(options: { placement: GatewayPlacement; catalog: ModelCatalog }) {
  return async (c: Context) => {
    const location = toLatLng({ lat: numberParam(c, 'lat'), lng: numberParam(c, 'lng') }, 'location');
    const memoryMb = numberParam(c, 'memoryMb');
    if (!Number.isInteger(memoryMb) || memoryMb < MIN_MEMORY_MB || memoryMb > MAX_MEMORY_MB) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `memoryMb must be an integer in [${MIN_MEMORY_MB}, ${MAX_MEMORY_MB}], got ${JSON.stringify(c.req.query('memoryMb'))}`,
      );
    }
    const providersRaw = c.req.query('providers') ?? 'cpu';
    const providers = providersRaw.split(',').map((p) => p.trim());
    const unknown = providers.find((p) => !(EXECUTION_PROVIDERS as readonly string[]).includes(p));
    if (unknown !== undefined || providers.length > EXECUTION_PROVIDERS.length) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `providers must be a comma-separated list of ${EXECUTION_PROVIDERS.join(', ')}, got ${JSON.stringify(providersRaw.slice(0, 100))}`,
      );
    }
    const query = {
      location,
      hardware: { memoryMb, executionProviders: providers as ExecutionProvider[] },
      catalogue: options.catalog.manifests(),
    };
    const answer: DesiredModelsAnswer = {
      models: options.placement.modelsForJoiningNode
        ? await options.placement.modelsForJoiningNode(query)
        : modelsForJoiningNode({ ...query, shortfalls: [], demand: [] }),
    };
    return c.json(answer);
  };
}
