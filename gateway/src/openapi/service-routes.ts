import { GATEWAY_IDENTITY_PATH, gatewayIdentitySchema } from '@hexedge/protocol';
import { createRoute } from '@hono/zod-openapi';
import { healthSchema } from './answers.ts';
import { errors, jsonAnswer, textAnswer } from './content.ts';

/** The gateway's own routes: readiness, identity, metrics and this API's description. */

const tags = ['service'];

export const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags,
  summary: 'Readiness: 200 once every part (MQTT ingress, ChirpStack ingress…) is up',
  responses: {
    200: jsonAnswer({ name: 'Health', schema: healthSchema, description: 'ready' }),
    503: jsonAnswer({
      name: 'Health',
      schema: healthSchema,
      description: 'starting, or a part is down (`parts` says which)',
    }),
  },
});

export const identityRoute = createRoute({
  method: 'get',
  path: GATEWAY_IDENTITY_PATH,
  tags,
  summary:
    "The gateway's report key: it signs the receipts it forwards to oracles and the requests it forwards to nodes",
  responses: {
    200: jsonAnswer({
      name: 'GatewayIdentity',
      schema: gatewayIdentitySchema,
      description: 'the key id (public key)',
    }),
  },
});

export const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags,
  summary:
    'Prometheus metrics: requests by route, code and model, latency histograms, placement, failovers, receipts, MQTT in flight',
  responses: { 200: textAnswer('the text exposition format', 'text/plain') },
});

export const openApiRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  tags,
  summary: 'This document (OpenAPI 3.1), generated from the route definitions',
  responses: {
    200: {
      description: 'the document',
      content: { 'application/json': { schema: { type: 'object' as const } } },
    },
  },
});

export const docsRoute = createRoute({
  method: 'get',
  path: '/docs',
  tags,
  summary: 'A readable page of the routes (self-contained, works offline)',
  responses: { 200: textAnswer('the page', 'text/html') },
});

/** The Worker's own route (adapters/worker.ts): how its sharded placement behaves in this isolate. */
export const placementShardsRoute = createRoute({
  method: 'get',
  path: '/v1/placement/shards',
  tags,
  security: [{ apiKey: [] }],
  summary: 'Worker only (admin): shard resolution and count, and the share of multi-shard queries',
  responses: {
    200: {
      description: 'the stats',
      content: { 'application/json': { schema: { type: 'object' as const, additionalProperties: true } } },
    },
    ...errors(401, 403, 429),
  },
});
