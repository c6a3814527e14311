import { inferRequestSchema, inferResponseSchema, modelManifestSchema, nearestNodeSchema } from '@hexedge/protocol';
import { z } from 'zod';
import { newKeySchema } from './routes/keys.ts';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { unrepresentable: 'any', io: 'input' });
const errorBody = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, requestId: { type: 'string' } } } },
};
const json = (s: unknown) => ({ content: { 'application/json': { schema: s } } });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { description: 'error', ...json({ $ref: '#/components/schemas/Error' }) }]));
const secured = [{ apiKey: [] }];

/**
 * The OpenAPI 3.1 document served at /openapi.json, built from the same zod schemas that validate
 * requests (zod's own JSON Schema conversion), so the document cannot drift from the code.
 */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'HexEdge gateway', version: '0.1.0', description: 'Geo-routed edge inference: place a request at the nearest verified node serving the model.' },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (hx_…) from POST /v1/keys or `hexedge dev`' } },
      schemas: {
        InferRequest: schema(inferRequestSchema),
        InferResponse: schema(inferResponseSchema),
        NearestNode: schema(nearestNodeSchema),
        ModelManifest: schema(modelManifestSchema),
        NewKey: schema(newKeySchema),
        Error: errorBody,
      },
    },
    paths: {
      '/v1/infer': {
        post: {
          summary: 'Run a model at the node nearest a location',
          description: [
            'Give OIP `inputs` (tensors) or a domain `input` that the model pipeline maps. A repeated `id` within 10 minutes returns the first answer (header Idempotent-Replayed).',
            'Priority and timeout: `policy.priority` (high, normal, low; or header X-HexEdge-Priority) and `policy.deadlineMs` (or header X-HexEdge-Deadline-Ms) go to the node scheduler; the body wins where both are given.',
            'Overload rule: 429 RATE_LIMITED + Retry-After = this caller is over its own share (rate, daily quota, requests in progress, or more than a quarter of them at high priority); 503 OVERLOADED + Retry-After = the fabric has no capacity (every node asked is full at this priority — low is refused first — or the gateway itself is at its bound). 504 DEADLINE_EXCEEDED: no answer within the deadline.',
            'Cache: when the gateway runs its response cache, a repeat of a request (same tenant, model bytes and inputs) is answered with the original answer and its original signed receipt, marked `cached` and with header X-HexEdge-Cache: hit (else miss, bypass or uncacheable). Opt out with `policy.cache: false`, or Cache-Control: no-cache (not from the cache) / no-store (not stored).',
            'Trace: send a W3C `traceparent` header; the answer carries `traceparent` (the gateway span) and the receipt `metadata.traceparent` (the node span), unsigned. Per-hop timings: GET /v1/traces/{requestId}.',
          ].join(' '),
          security: secured,
          parameters: [
            { name: 'traceparent', in: 'header', required: false, schema: { type: 'string' }, description: 'W3C trace context of the caller' },
            { name: 'X-HexEdge-Priority', in: 'header', required: false, schema: { type: 'string', enum: ['high', 'normal', 'low'] } },
            { name: 'X-HexEdge-Deadline-Ms', in: 'header', required: false, schema: { type: 'integer', minimum: 1, maximum: 60000 } },
            { name: 'Cache-Control', in: 'header', required: false, schema: { type: 'string' }, description: 'no-cache: not answered from the response cache; no-store: not stored in it' },
          ],
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/InferRequest' }) },
          responses: {
            '200': { description: 'outputs, the serving node, timing and the checked receipt (`cached` when from the response cache)', ...json({ $ref: '#/components/schemas/InferResponse' }) },
            ...errors(400, 401, 403, 404, 413, 502, 504),
            '429': { description: 'RATE_LIMITED: this caller is over its own share (rate, quota, requests in progress, high-priority share); Retry-After says when to retry', ...json({ $ref: '#/components/schemas/Error' }) },
            '503': { description: 'OVERLOADED: no capacity in the fabric for this request now (every node asked is full at its priority, or the gateway is at its bound); NO_NODE_AVAILABLE / MODEL_NOT_READY; Retry-After where known', ...json({ $ref: '#/components/schemas/Error' }) },
          },
        },
      },
      '/v1/traces/{requestId}': {
        get: {
          summary: "Per-hop timings of one of the caller's recent requests: gateway, placement, cache, node (queue, run), receipt check, spot checks",
          security: secured,
          parameters: [{ name: 'requestId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: '{ traces: [{ requestId, traceId, callerSpanId?, hops: [{ hop, startMs, durationMs, nodeId?, spanId? }] }] }' }, ...errors(401, 404) },
        },
      },
      '/v1/nodes/nearest': {
        get: {
          summary: 'Healthy nodes nearest a location, nearest first',
          security: secured,
          parameters: ['lat', 'lng', 'model', 'k'].map((name) => ({ name, in: 'query', required: name === 'lat' || name === 'lng', schema: { type: name === 'model' ? 'string' : 'number' } })),
          responses: { '200': { description: 'nodes', ...json({ type: 'object', properties: { nodes: { type: 'array', items: { $ref: '#/components/schemas/NearestNode' } } } }) }, ...errors(400, 401, 429) },
        },
      },
      '/v1/nodes/{id}': { get: { summary: 'One node: status, hardware, models and load', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'node' }, ...errors(404) } } },
      '/v1/models': { get: { summary: 'Model catalog: what each model does, its inputs, where it is served', responses: { '200': { description: 'models' } } } },
      '/v1/models/{contentId}/manifest': { get: { summary: 'Origin registry: a model manifest', parameters: [{ name: 'contentId', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } }], responses: { '200': { description: 'manifest', ...json({ $ref: '#/components/schemas/ModelManifest' }) }, ...errors(400, 404) } } },
      '/v1/models/{contentId}/artifact': { get: { summary: 'Origin registry: the ONNX bytes (SHA-256 = content id)', parameters: [{ name: 'contentId', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } }], responses: { '200': { description: 'bytes', content: { 'application/octet-stream': {} } }, ...errors(400, 404) } } },
      '/v1/usage': { get: { summary: "The caller's own usage and quota", security: secured, responses: { '200': { description: 'usage' }, ...errors(401) } } },
      '/v1/keys': {
        get: { summary: 'List keys (admin)', security: secured, responses: { '200': { description: 'keys' }, ...errors(401, 403) } },
        post: { summary: 'Create a key (admin); the key is shown once', security: secured, requestBody: { required: true, ...json({ $ref: '#/components/schemas/NewKey' }) }, responses: { '201': { description: 'the new key' }, ...errors(400, 401, 403) } },
      },
      '/v1/keys/{id}': { delete: { summary: 'Revoke a key (admin)', security: secured, parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'revoked' }, ...errors(401, 403, 404) } } },
      '/v1/nodes/register': { post: { summary: 'Node registration, signed with the node key', responses: { '200': { description: 'ack with heartbeat interval' }, ...errors(400, 401, 409) } } },
      '/v1/nodes/heartbeat': { post: { summary: 'Node heartbeat, signed, increasing sequence number', responses: { '200': { description: 'ack' }, ...errors(400, 401, 404, 409) } } },
      '/healthz': { get: { summary: '200 when the gateway is ready', responses: { '200': { description: 'ready' }, '503': { description: 'starting' } } } },
    },
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);

/** A readable, self-contained docs page (no external assets: it works offline). */
export function docsPage(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, { summary?: string; description?: string; security?: unknown }>>;
  const rows = Object.entries(paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(
        ([method, op]) =>
          `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary ?? '')}${op.description ? `<br><small>${escapeHtml(op.description)}</small>` : ''}</td><td>${op.security ? 'API key' : ''}</td></tr>`,
      ),
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>HexEdge API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td{border-top:1px solid #ddd;padding:.4rem;vertical-align:top}code{background:#f4f4f4;padding:0 .2rem}</style>
</head><body><h1>HexEdge gateway API</h1><p>Send <code>Authorization: Bearer &lt;api key&gt;</code>. Errors are <code>{"error":{"code","message","requestId"}}</code>. The full schema is at <a href="/openapi.json">/openapi.json</a>.</p>
<table><thead><tr><th>method</th><th>path</th><th>what</th><th>auth</th></tr></thead><tbody>${rows}</tbody></table></body></html>`;
}
