// The routes edge nodes and their callers use: registration and heartbeats (signed by the node, so
// no API key; rates per client source), and the lookups of nodes by place, id or desired models.
import { declaredBodyLimit } from '../body-limit.ts';
import { mount, type GatewayApp } from '../openapi/mount.ts';
import {
  desiredModelsRoute,
  heartbeatRoute,
  nearestRoute,
  nodeListRoute,
  nodeRoute,
  registerRoute,
} from '../openapi/node-routes.ts';
import { desiredModelsHandler, nearestHandler, nodeHandler, registrationHandlers } from '../routes/nodes.ts';
import { nodeListHandler } from '../routes/oracle.ts';
import type { GatewayWiring } from './options.ts';

/** Registration and heartbeat bodies are small; 256 KiB leaves room for a node with many models. */
export const MAX_NODE_MESSAGE_BYTES = 256 * 1024;

export function mountNodeRoutes(
  app: GatewayApp,
  { options, placement, catalog, auth }: Pick<GatewayWiring, 'options' | 'placement' | 'catalog' | 'auth'>,
): void {
  const nodes = registrationHandlers(placement, {
    nodeUrls: options.nodeUrls ?? { allowPrivate: false },
    ...(options.nodeMessageLimits ? { limits: options.nodeMessageLimits } : {}),
    ...(options.clientIp ? { clientIp: options.clientIp } : {}),
  });
  mount(app, registerRoute, declaredBodyLimit(MAX_NODE_MESSAGE_BYTES), nodes.register);
  mount(app, heartbeatRoute, declaredBodyLimit(MAX_NODE_MESSAGE_BYTES), nodes.heartbeat);
  mount(app, nearestRoute, auth, nearestHandler(placement));
  mount(app, desiredModelsRoute, desiredModelsHandler({ placement, catalog }));
  mount(app, nodeRoute, nodeHandler(placement));
  mount(app, nodeListRoute, nodeListHandler(placement));
}
