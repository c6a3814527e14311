import {
  HexEdgeError,
  MAX_DEADLINE_MS,
  parseDeadlineMs,
  parsePriority,
  PRIORITIES,
  inferRequestSchema,
  inferResponseSchema,
  modelManifestSchema,
  toLatLng,
} from '@hexedge/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import {
  catalogSchema,
  keyListSchema,
  keyViewSchema,
  newKeyAnswerSchema,
  peersSchema,
  traceAnswerSchema,
  usageSchema,
} from './answers.ts';
import { errors, jsonAnswer, jsonBody, textAnswer } from './content.ts';
import { checked, intParam, pathParam } from './params.ts';

/** The app developer's routes: inference, usage, the model catalogue and origin registry, API keys. */

const secured = [{ apiKey: [] }];

export const inferRoute = createRoute({
  method: 'post',
  path: '/v1/infer',
  tags: ['inference'],
  security: secured,
  summary: 'Run a model at the node nearest a location',
  description: [
    'Give OIP `inputs` (tensors) or a domain `input` that the model pipeline maps. A repeated `id` within 10 minutes returns the first answer (header Idempotent-Replayed). The receipt is signed by the node that served: check it with @hexedge/protocol.',
    'Priority and timeout: `policy.priority` (high, normal, low; or header X-HexEdge-Priority) and `policy.deadlineMs` (or header X-HexEdge-Deadline-Ms) go to the node scheduler; the body wins where both are given.',
    'Overload rule: 429 RATE_LIMITED + Retry-After = this caller is over its own share (rate, daily quota, requests in progress, or more than a quarter of them at high priority); 503 OVERLOADED + Retry-After = the fabric has no capacity (every node asked is full at this priority — low is refused first — or the gateway itself is at its bound). 504 DEADLINE_EXCEEDED: no answer within the deadline.',
    'Cache: when the gateway runs its response cache, a repeat of a request (same tenant, model bytes and inputs) is answered with the original answer and its original signed receipt, marked `cached` and with header X-HexEdge-Cache: hit (else miss, bypass or uncacheable). Opt out with `policy.cache: false`, or Cache-Control: no-cache (not from the cache) / no-store (not stored).',
    'Trace: send a W3C `traceparent` header; the answer carries `traceparent` (the gateway span) and the receipt `metadata.traceparent` (the node span), unsigned. Per-hop timings: GET /v1/traces/{requestId}.',
  ].join(' '),
  request: {
    headers: z.object({
      traceparent: checked((raw) => raw, {
        type: 'string',
        description: 'W3C trace context of the caller (a malformed one starts a new trace)',
      }),
      'x-hexedge-priority': checked((raw) => parsePriority(raw), {
        type: 'string',
        enum: PRIORITIES,
        description: 'scheduling priority (policy.priority wins)',
      }),
      'x-hexedge-deadline-ms': checked((raw) => parseDeadlineMs(raw), {
        type: 'integer',
        minimum: 1,
        maximum: MAX_DEADLINE_MS,
        description: 'budget for the answer, ms from now (policy.deadlineMs wins)',
      }),
      'cache-control': checked((raw) => raw, {
        type: 'string',
        description: 'no-cache: not answered from the response cache; no-store: not stored in it',
      }),
    }),
    body: jsonBody({
      name: 'InferRequest',
      schema: inferRequestSchema,
      description: 'model, location, inputs or input, policy',
    }),
  },
  responses: {
    200: jsonAnswer({
      name: 'InferResponse',
      schema: inferResponseSchema,
      description: 'outputs, the serving node, timing and the checked receipt',
      headers: {
        'Idempotent-Replayed': {
          description: '`true` when this is the stored answer to a repeated id',
          schema: { type: 'string', enum: ['true'] },
        },
      },
    }),
    ...errors(400, 401, 403, 404, 413, 429, 502, 503, 504),
  },
});

export const traceRoute = createRoute({
  method: 'get',
  path: '/v1/traces/{requestId}',
  tags: ['inference'],
  security: secured,
  summary:
    "Per-hop timings of one of the caller's recent requests: gateway, placement, cache, node (queue, run), receipt check, spot checks (not metered)",
  request: {
    params: z.object({
      requestId: pathParam((raw) => raw, {
        type: 'string',
        description: 'the request id (`id` or X-Request-Id)',
      }),
    }),
  },
  responses: {
    200: jsonAnswer({
      name: 'Traces',
      schema: traceAnswerSchema,
      description: 'the traces with that request id',
    }),
    ...errors(401, 404),
  },
});

export const usageRoute = createRoute({
  method: 'get',
  path: '/v1/usage',
  tags: ['inference'],
  security: secured,
  summary: "The caller's own usage and quota (not metered: it answers over quota too)",
  responses: {
    200: jsonAnswer({ name: 'Usage', schema: usageSchema, description: 'usage' }),
    ...errors(401),
  },
});

export const catalogRoute = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['models'],
  summary: 'Model catalogue: what each model does, its inputs, where it is served',
  responses: {
    200: jsonAnswer({ name: 'ModelCatalog', schema: catalogSchema, description: 'the models' }),
    ...errors(503),
  },
});

const CONTENT_ID = /^[0-9a-f]{64}$/;

function contentId(raw: string): string {
  if (!CONTENT_ID.test(raw))
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `content id must be 64 lowercase hex characters, got ${JSON.stringify(raw.slice(0, 80))}`,
    );
  return raw;
}
export const contentIdParams = z.object({
  contentId: pathParam(contentId, {
    type: 'string',
    pattern: CONTENT_ID.source,
    description: "the artifact's SHA-256, lowercase hex",
  }),
});

export const manifestRoute = createRoute({
  method: 'get',
  path: '/v1/models/{contentId}/manifest',
  tags: ['models'],
  summary: 'Origin registry: a model manifest',
  request: { params: contentIdParams },
  responses: {
    200: jsonAnswer({ name: 'ModelManifest', schema: modelManifestSchema, description: 'the manifest' }),
    ...errors(400, 404),
  },
});

export const artifactRoute = createRoute({
  method: 'get',
  path: '/v1/models/{contentId}/artifact',
  tags: ['models'],
  summary: 'Origin registry: the ONNX bytes (their SHA-256 is the content id)',
  request: { params: contentIdParams },
  responses: {
    200: textAnswer('the bytes', 'application/octet-stream'),
    ...errors(400, 404),
  },
});

/** Most peers a node is told about at once. */
export const MAX_PEERS = 10;

/** `?lat=&lng=` for peers: a missing value is NaN, out of range (protocol's `toLatLng` words). */
const peerCoordinate = (axis: 'lat' | 'lng') =>
  checked((raw) => toLatLng({ lat: 0, lng: 0, [axis]: Number(raw ?? Number.NaN) }, 'location')[axis], {
    type: 'number',
    minimum: axis === 'lat' ? -90 : -180,
    maximum: axis === 'lat' ? 90 : 180,
    required: true,
    description: axis === 'lat' ? 'latitude of the asking node, degrees' : 'longitude, degrees',
  });

export const peersQuery = z.object({
  lat: peerCoordinate('lat'),
  lng: peerCoordinate('lng'),
  k: intParam({ name: 'k', min: 1, max: MAX_PEERS, fallback: 5, description: 'how many peers' }),
});

export const peersRoute = createRoute({
  method: 'get',
  path: '/v1/artifacts/{contentId}/peers',
  tags: ['models'],
  summary:
    'Healthy nodes holding an artifact, nearest first (a node pulls from a neighbour before the origin)',
  request: { params: contentIdParams, query: peersQuery },
  responses: {
    200: jsonAnswer({ name: 'ArtifactPeers', schema: peersSchema, description: 'the peers' }),
    ...errors(400),
  },
});

/** `POST /v1/keys`: what a new key may be given. */
export const newKeySchema = z
  .object({
    name: z.string().min(1).max(128),
    role: z.enum(['admin', 'app']).optional(),
    models: z.array(z.string().min(1).max(128)).min(1).max(256).optional(),
    region: z
      .string()
      .regex(/^[A-Za-z0-9]{2,32}$/)
      .optional(),
    ratePerSecond: z.number().positive().max(1e6).optional(),
    burst: z.number().int().positive().max(1e6).optional(),
    dailyQuota: z.number().int().positive().max(1e10).optional(),
    expiresInMs: z
      .number()
      .int()
      .positive()
      .max(10 * 365 * 86_400_000)
      .optional(),
  })
  .strict();

export const createKeyRoute = createRoute({
  method: 'post',
  path: '/v1/keys',
  tags: ['keys'],
  security: secured,
  summary: 'Create an API key (admin); the key is shown once, in this answer',
  request: {
    body: jsonBody({ name: 'NewKey', schema: newKeySchema, description: 'name, role, scopes and limits' }),
  },
  responses: {
    201: jsonAnswer({
      name: 'CreatedKey',
      schema: newKeyAnswerSchema,
      description: 'the new key and its record',
    }),
    ...errors(400, 401, 403, 413, 429, 503),
  },
});

export const listKeysRoute = createRoute({
  method: 'get',
  path: '/v1/keys',
  tags: ['keys'],
  security: secured,
  summary: 'List API keys (admin)',
  responses: {
    200: jsonAnswer({
      name: 'KeyList',
      schema: keyListSchema,
      description: 'the keys, without their hashes',
    }),
    ...errors(401, 403, 429),
  },
});

function keyId(raw: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw))
    throw new HexEdgeError('INVALID_REQUEST', `not a key id: ${JSON.stringify(raw.slice(0, 80))}`);
  return raw;
}

export const keyIdParams = z.object({
  id: pathParam(keyId, { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'the key id' }),
});

export const revokeKeyRoute = createRoute({
  method: 'delete',
  path: '/v1/keys/{id}',
  tags: ['keys'],
  security: secured,
  summary: 'Revoke an API key (admin)',
  request: { params: keyIdParams },
  responses: {
    200: jsonAnswer({ name: 'KeyRecord', schema: keyViewSchema, description: 'the revoked key' }),
    ...errors(400, 401, 403, 404, 429, 503),
  },
});
