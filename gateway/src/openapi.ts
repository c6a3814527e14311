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
          description: 'Give OIP `inputs` (tensors) or a domain `input` that the model pipeline maps. A repeated `id` within 10 minutes returns the first answer (header Idempotent-Replayed).',
          security: secured,
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/InferRequest' }) },
          responses: { '200': { description: 'outputs, the serving node, timing and the checked receipt', ...json({ $ref: '#/components/schemas/InferResponse' }) }, ...errors(400, 401, 403, 404, 413, 429, 502, 503, 504) },
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
