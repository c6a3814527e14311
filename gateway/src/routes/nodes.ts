import { modelsForJoiningNode } from '@hexedge/placement';
import { HexEdgeError, type DesiredModelsAnswer, type NearestNode } from '@hexedge/protocol';
import type { ModelCatalog } from '../catalog.ts';
import type { GatewayPlacement } from '../gateway-placement.ts';
import type { Context } from 'hono';
import { readJsonBody } from '../http-errors.ts';
import { checkNodeUrl, type NodeUrlPolicy } from '../node-urls.ts';
import { desiredModelsQuery, nearestQuery, nodeIdParams } from '../openapi/node-routes.ts';
import { valid } from '../openapi/params.ts';
import { clientSourceOf } from './client-source.ts';
import type { SourceLimiter } from './node-message-limits.ts';

/** GET /v1/nodes/nearest?lat=&lng=&model=&k= — healthy nodes nearest first, optionally serving a model (query checked by its route, openapi/node-routes.ts). */
export function nearestHandler(placement: GatewayPlacement) {
  return async (c: Context) => {
    const { lat, lng, k, model } = valid(c, 'query', nearestQuery);
    const location = { lat, lng };
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
    const { id } = valid(c, 'param', nodeIdParams);
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
    limits?: SourceLimiter;
    clientIp?: (c: Context) => string | undefined;
  } = { nodeUrls: { allowPrivate: false } },
) {
  const ipOf = (c: Context) => options.clientIp?.(c);
  return {
    register: async (c: Context) => {
      await options.limits?.checkIp(ipOf(c), 'registration');
      const message = await readJsonBody(c);
      const url = (message as { body?: { url?: unknown } } | null)?.body?.url;
      if (typeof url === 'string') await checkNodeUrl(url, options.nodeUrls);
      // The probation cap shares a full registry between sources: the coarsest one a client holds.
      const source = clientSourceOf(ipOf(c));
      return c.json(await placement.register(message, { source: source.prefix48 ?? source.key }));
    },
    heartbeat: async (c: Context) => {
      await options.limits?.checkIp(ipOf(c), 'heartbeat');
      return c.json(await placement.heartbeat(await readJsonBody(c)));
    },
  };
}

/** GET /v1/nodes/desired-models?lat=&lng=&memoryMb=&providers= — what a joining node should pull first. */
export function desiredModelsHandler(options: { placement: GatewayPlacement; catalog: ModelCatalog }) {
  return async (c: Context) => {
    const { lat, lng, memoryMb, providers } = valid(c, 'query', desiredModelsQuery);
    const query = {
      location: { lat, lng },
      hardware: { memoryMb, executionProviders: providers },
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
