import {
  DESIRED_MODELS_PATH,
  desiredModelsAnswerSchema,
  EXECUTION_PROVIDERS,
  HexEdgeError,
  MAX_NEAREST_K,
  MAX_NODE_PAGE,
  nearestNodeSchema,
  NODES_PATH,
  nodeListPageSchema,
  signedHeartbeatSchema,
  signedRegistrationSchema,
} from '@hexedge/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { nearestAnswerSchema, nodeAckSchema, nodeDetailSchema } from './answers.ts';
import { errors, jsonAnswer, jsonBody } from './content.ts';
import { checked, coordinateParam, intParam, pathParam, requiredNumber } from './params.ts';

/** Placement's routes: node registration and heartbeats, nearest nodes, one node, the node directory. */

const secured = [{ apiKey: [] }];
const tags = ['nodes'];

/** Default number of nodes `GET /v1/nodes/nearest` returns. */
export const DEFAULT_NEAREST_K = 5;

export const registerRoute = createRoute({
  method: 'post',
  path: '/v1/nodes/register',
  tags,
  summary: 'Register an edge node (signed with the node key)',
  description:
    'The body is signed by the node key it names; the node URL must not point at a private address unless the gateway allows it. Rate limited per client IP, then per node.',
  request: {
    body: jsonBody({
      name: 'SignedRegistration',
      schema: signedRegistrationSchema,
      description: 'the signed registration',
    }),
  },
  responses: {
    200: jsonAnswer({
      name: 'NodeAck',
      schema: nodeAckSchema,
      description: 'registered: the heartbeat interval and the models to pull',
    }),
    ...errors(400, 401, 409, 413, 429, 503),
  },
});

export const heartbeatRoute = createRoute({
  method: 'post',
  path: '/v1/nodes/heartbeat',
  tags,
  summary: 'Node heartbeat: load and models, signed, with an increasing sequence number',
  request: {
    body: jsonBody({
      name: 'SignedHeartbeat',
      schema: signedHeartbeatSchema,
      description: 'the signed heartbeat',
    }),
  },
  responses: {
    200: jsonAnswer({ name: 'NodeAck', schema: nodeAckSchema, description: 'accepted' }),
    ...errors(400, 401, 404, 409, 413, 429, 503),
  },
});

export const nearestQuery = z.object({
  lat: coordinateParam('lat', 'latitude, degrees'),
  lng: coordinateParam('lng', 'longitude, degrees'),
  k: intParam({
    name: 'k',
    min: 1,
    max: MAX_NEAREST_K,
    fallback: DEFAULT_NEAREST_K,
    description: 'how many nodes',
  }),
  model: checked((raw) => raw || undefined, {
    type: 'string',
    maxLength: 128,
    description: 'only nodes serving this model',
  }),
});

export const nearestRoute = createRoute({
  method: 'get',
  path: '/v1/nodes/nearest',
  tags,
  security: secured,
  summary: 'Healthy nodes nearest a location, nearest first',
  request: { query: nearestQuery },
  responses: {
    200: jsonAnswer({
      name: 'NearestNodes',
      schema: nearestAnswerSchema(nearestNodeSchema),
      description: 'the nodes',
    }),
    ...errors(400, 401, 429, 503),
  },
});

/** Memory a joining node may claim, MiB: from a 64 MiB gateway board to a 16 TiB server. */
const MIN_MEMORY_MB = 64;
const MAX_MEMORY_MB = 16 * 2 ** 20;

function memoryMb(raw: string | undefined): number {
  const value = requiredNumber('memoryMb')(raw);
  if (!Number.isInteger(value) || value < MIN_MEMORY_MB || value > MAX_MEMORY_MB)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `memoryMb must be an integer in [${MIN_MEMORY_MB}, ${MAX_MEMORY_MB}], got ${JSON.stringify(raw)}`,
    );
  return value;
}

function providers(raw: string | undefined) {
  const given = raw ?? 'cpu';
  const list = given.split(',').map((p) => p.trim());
  const unknown = list.find((p) => !(EXECUTION_PROVIDERS as readonly string[]).includes(p));
  if (unknown !== undefined || list.length > EXECUTION_PROVIDERS.length)
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `providers must be a comma-separated list of ${EXECUTION_PROVIDERS.join(', ')}, got ${JSON.stringify(given.slice(0, 100))}`,
    );
  return list as (typeof EXECUTION_PROVIDERS)[number][];
}

export const desiredModelsQuery = z.object({
  lat: coordinateParam('lat', 'where the node will run: latitude, degrees'),
  lng: coordinateParam('lng', 'longitude, degrees'),
  memoryMb: checked(memoryMb, {
    type: 'integer',
    minimum: MIN_MEMORY_MB,
    maximum: MAX_MEMORY_MB,
    required: true,
    description: 'memory the node offers, MiB',
  }),
  providers: checked(providers, {
    type: 'string',
    default: 'cpu',
    description: `comma-separated execution providers (${EXECUTION_PROVIDERS.join(', ')})`,
  }),
});

export const desiredModelsRoute = createRoute({
  method: 'get',
  path: DESIRED_MODELS_PATH,
  tags,
  summary: 'What a node about to join at a place, with this memory and these providers, should pull first',
  request: { query: desiredModelsQuery },
  responses: {
    200: jsonAnswer({
      name: 'DesiredModels',
      schema: desiredModelsAnswerSchema,
      description: 'models, most wanted first',
    }),
    ...errors(400),
  },
});

export const nodeIdParams = z.object({
  id: pathParam((raw) => raw, {
    type: 'string',
    description: 'the node id (its Ed25519 public key, base64url)',
  }),
});

export const nodeRoute = createRoute({
  method: 'get',
  path: '/v1/nodes/{id}',
  tags,
  summary: 'One node: status, hardware, models and load, trust',
  request: { params: nodeIdParams },
  responses: {
    200: jsonAnswer({ name: 'NodeDetail', schema: nodeDetailSchema, description: 'the node' }),
    ...errors(404),
  },
});

export const nodeListQuery = z.object({
  limit: intParam({
    name: 'limit',
    min: 1,
    max: MAX_NODE_PAGE,
    fallback: MAX_NODE_PAGE,
    description: 'nodes per page',
  }),
  after: checked((raw) => raw ?? '', { type: 'string', description: 'the `next` of the previous page' }),
});

export const nodeListRoute = createRoute({
  method: 'get',
  path: NODES_PATH,
  tags,
  summary:
    'Healthy nodes in id order, with where to reach them and their location claim (the oracle directory reads it)',
  request: { query: nodeListQuery },
  responses: {
    200: jsonAnswer({
      name: 'NodeListPage',
      schema: nodeListPageSchema,
      description: 'one page; `next` is null on the last',
    }),
    ...errors(400),
  },
});
