import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { GENERATED_FILE, gatewayApiSource, gatewayDocument } from '../scripts/gateway-api.ts';
import { createClient } from '../src/index.ts';

/**
 * The client's types are generated from the gateway's OpenAPI document (openapi-typescript); this
 * fails when the committed types differ from what the gateway's route definitions give now, so the
 * client cannot drift from the API. `tsc -b` then checks every call the client makes against them.
 */
describe('the client is typed from the gateway’s OpenAPI document', () => {
  it('src/generated/gateway-api.ts is what openapi-typescript makes of the current document', async () => {
    const committed = await readFile(GENERATED_FILE, 'utf8');
    const fresh = await gatewayApiSource();
    expect(
      committed === fresh,
      'the gateway API changed: run `npm run generate -w @hexedge/client` and commit the result',
    ).toBe(true);
  });

  it('fails on a document that differs (a renamed field)', async () => {
    const doc = JSON.parse(
      JSON.stringify(await gatewayDocument()).replace('"distanceKm"', '"distanceKilometres"'),
    ) as Record<string, unknown>;
    expect(await gatewayApiSource(doc)).not.toBe(await readFile(GENERATED_FILE, 'utf8'));
  });

  it('calls only paths and methods the document has', async () => {
    const doc = (await gatewayDocument()) as { paths: Record<string, Record<string, unknown>> };
    const calls: Array<[string, string]> = [];
    const client = createClient({
      baseUrl: 'http://gateway.invalid',
      retry: false,
      fetch: async (url, init) => {
        calls.push([String(init?.method).toLowerCase(), decodeURIComponent(new URL(String(url)).pathname)]);
        return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
      },
    });
    await client.infer({ model: 'm', location: { lat: 0, lng: 0 }, input: 1 });
    await client.nearest({ lat: 0, lng: 0 }).catch(() => {});
    await client.models();
    await client.node('n1');
    await client.nodes();
    await client.usage();
    await client.health();
    const templates = Object.keys(doc.paths).map((p) => ({
      p,
      re: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }));
    for (const [method, path] of calls) {
      const template = templates.find((t) => t.re.test(path) && doc.paths[t.p]![method]);
      expect(template, `${method.toUpperCase()} ${path}`).toBeDefined();
    }
    expect(calls).toHaveLength(7);
  });
});
