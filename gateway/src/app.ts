import { HexEdgeError, MAX_INFER_BODY_BYTES } from '@hexedge/protocol';
import type { Placement } from '@hexedge/placement';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requireApiKey, type ApiKeys } from './auth.ts';
import { errorResponse } from './http-errors.ts';
import { fetchNodeClient, type NodeClient } from './node-client.ts';
import { inferHandler } from './routes/infer.ts';
import { nearestHandler, registrationHandlers } from './routes/nodes.ts';

/** Registration and heartbeat bodies are small; 256 KiB leaves room for a node with many models. */
export const MAX_NODE_MESSAGE_BYTES = 256 * 1024;

export interface GatewayAppOptions {
  placement: Placement;
  apiKeys: ApiKeys;
  nodeClient?: NodeClient;
  /** Whether the gateway is ready to serve (the composition root flips it once everything is up). */
  isReady?: () => boolean;
  log?: (message: string) => void;
}

const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new HexEdgeError('PAYLOAD_TOO_LARGE', `request body exceeds ${maxSize} bytes`);
    },
  });

/** The gateway's HTTP API as a runtime-neutral hono app (served by the Node adapter, later by a Worker). */
export function createGatewayApp(options: GatewayAppOptions): Hono {
  const { placement, apiKeys } = options;
  const isReady = options.isReady ?? (() => true);
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) => errorResponse(c, new HexEdgeError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)));

  app.get('/healthz', (c) => (isReady() ? c.json({ ok: true }) : c.json({ ok: false }, 503)));

  const nodes = registrationHandlers(placement);
  app.post('/v1/nodes/register', limit(MAX_NODE_MESSAGE_BYTES), nodes.register);
  app.post('/v1/nodes/heartbeat', limit(MAX_NODE_MESSAGE_BYTES), nodes.heartbeat);

  const auth = requireApiKey(apiKeys);
  app.get('/v1/nodes/nearest', auth, nearestHandler(placement));
  app.post(
    '/v1/infer',
    auth,
    limit(MAX_INFER_BODY_BYTES),
    inferHandler({ placement, nodeClient: options.nodeClient ?? fetchNodeClient, ...(options.log ? { log: options.log } : {}) }),
  );
  return app;
}
