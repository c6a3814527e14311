import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { componentSchemas } from './content.ts';

/**
 * The OpenAPI 3.1 document served at /openapi.json: zod-openapi generates it from the routes this app
 * registered (their createRoute definitions: paths, parameters, answers), and the component schemas
 * they name come from the zod schemas the handlers parse and answer with. A route added with a bare
 * `app.get` is missing from it, and the route-coverage test fails.
 */
export function openApiDocument(app: OpenAPIHono<Env>): Record<string, unknown> {
  const doc = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'HexEdge gateway',
      version: '0.1.0',
      description:
        'Geo-routed edge inference: place a request at the nearest verified node serving the model. Errors are `{"error":{"code","message","requestId"}}` with the code’s HTTP status.',
    },
    tags: [
      { name: 'inference', description: 'run models, see your usage' },
      { name: 'nodes', description: 'placement: nearest nodes, node lifecycle, the node directory' },
      { name: 'models', description: 'the model catalogue and the origin registry nodes pull from' },
      { name: 'keys', description: 'API keys (admin)' },
      { name: 'devices', description: "the firmware bridge's devices and profiles (admin)" },
      { name: 'oracle', description: 'the coverage oracle’s routes through the gateway' },
      { name: 'dashboards', description: 'the web dashboards and their data' },
      { name: 'service', description: 'health, identity, metrics, this document' },
    ],
  }) as unknown as Record<string, unknown> & { components?: Record<string, Record<string, unknown>> };
  const refs = new Set<string>();
  collectRefs(doc.paths, refs);
  doc.components = {
    ...doc.components,
    schemas: { ...doc.components?.schemas, ...componentSchemas(refs) },
    securitySchemes: {
      apiKey: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API key (hx_…) from POST /v1/keys or `hexedge dev`',
      },
    },
  };
  return doc;
}

const SCHEMA_REF = '#/components/schemas/';

function collectRefs(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, into);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(SCHEMA_REF))
        into.add(value.slice(SCHEMA_REF.length));
      else collectRefs(value, into);
    }
  }
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);

/** A readable, self-contained docs page (no external assets: it works offline). */
export function docsPage(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<
    string,
    Record<string, { summary?: string; description?: string; security?: unknown }>
  >;
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
