import { DeviceRegistry, demoFleetFile } from '@hexedge/firmware-bridge';
import { Placement } from '@hexedge/placement';
import { generateNodeKeyPair } from '@hexedge/protocol';
import { Validator } from '@seriousme/openapi-schema-validator';
import { latLngToCell } from 'h3-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryModelCatalog } from '../src/catalog.ts';
import { createGatewayApp } from '../src/index.ts';
import { RolloutManager } from '../src/rollouts/rollout-manager.ts';
import { MemoryRolloutStore } from '../src/rollouts/rollout-store.ts';
import {
  body,
  CONTENT_ID,
  fakeNode,
  fakeNodes,
  KEY,
  keyRing,
  register,
  type FakeNode,
} from './fake-nodes.ts';
import { OpenApiConformance, type OpenApiDoc } from './openapi-conformance.ts';

/**
 * /openapi.json is generated from the route definitions (zod-openapi) and covers every route the app
 * registers: a maintained OpenAPI validator accepts it, the app's route table and the document's
 * paths are the same set, parameter errors keep the gateway's codes and messages, and answers of the
 * in-process app (fake nodes) conform to it. The live fabric's answers are checked in openapi-live.
 */

type App = ReturnType<typeof createGatewayApp>['app'];

/** A gateway with every optional part on, so every route exists. */
async function fullApp(near: FakeNode) {
  const placement = new Placement({ heartbeatIntervalMs: 60_000 });
  await register(placement, near, 52.3, 4.8);
  const devices = new DeviceRegistry();
  devices.loadFleet(demoFleetFile());
  const reporter = await generateNodeKeyPair();
  return createGatewayApp({
    placement,
    keys: await keyRing(),
    nodeClient: fakeNodes([near]),
    devices,
    oracle: { url: 'http://127.0.0.1:9', oracleIds: [] },
    reporterId: reporter.nodeId,
    metrics: { text: async () => '# no metrics\n', contentType: 'text/plain; version=0.0.4' },
    dashboard: { staticAssets: async () => undefined },
    rollouts: new RolloutManager({ store: new MemoryRolloutStore(), catalogue: new MemoryModelCatalog() }),
  }).app;
}

/** The app's routes as OpenAPI paths: `:id` → `{id}`, `:asset{.+}` → `{asset}`; middleware (ALL) left out. */
function routeTable(app: App): string[] {
  const routes = app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}')}`);
  return [...new Set(routes)].sort();
}

const documented = (doc: OpenApiDoc) =>
  Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();

let near: FakeNode;
let app: App;
let doc: OpenApiDoc;
let judge: OpenApiConformance;

beforeAll(async () => {
  near = await fakeNode('http://near.test');
  app = await fullApp(near);
  doc = (await (await app.request('/openapi.json')).json()) as OpenApiDoc;
  judge = new OpenApiConformance(doc);
});

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document by @seriousme/openapi-schema-validator, and a dangling $ref fails it', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    const broken = JSON.parse(
      JSON.stringify(doc).replace(
        '"#/components/schemas/InferRequest"',
        '"#/components/schemas/InferRequset"',
      ),
    ) as OpenApiDoc;
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('lists exactly the routes the app registers (every public route, nothing that is not served)', () => {
    const table = routeTable(app);
    expect(documented(doc)).toEqual(table);
    // The routes the issue named, by name, so the set above cannot be small by accident.
    for (const route of [
      'GET /healthz',
      'GET /metrics',
      'GET /v1/gateway/identity',
      'PUT /v1/devices/{devEui}',
      'GET /v1/profiles',
      'GET /v1/coverage',
      'POST /v1/oracle/trust',
      'POST /v1/oracle/rerun',
      'GET /v1/events/network',
      'GET /v1/network/hexes/{cell}',
      'GET /v1/nodes',
      'GET /v1/usage/detail',
      'GET /v1/artifacts/{contentId}/peers',
      'POST /v1/rollouts',
      'POST /v1/rollouts/{id}/abort',
      'PUT /v1/models/{name}/version-policy',
    ])
      expect(table).toContain(route);
    expect(table.length).toBeGreaterThanOrEqual(40);
  });

  it('finds a route added without a definition (a bare app.get is missing from the document)', async () => {
    const other = await fullApp(near);
    other.get('/v1/undocumented', (c) => c.text('hidden'));
    const otherDoc = (await (await other.request('/openapi.json')).json()) as OpenApiDoc;
    const missing = routeTable(other).filter((r) => !documented(otherDoc).includes(r));
    expect(missing).toEqual(['GET /v1/undocumented']);
  });

  it('names each component the zod schemas it was made from define: InferRequest, InferResponse, Device, Error…', () => {
    const schemas = doc.components.schemas as Record<
      string,
      { properties?: Record<string, unknown>; required?: string[] }
    >;
    expect(Object.keys(schemas.InferRequest!.properties!)).toEqual([
      'model',
      'version',
      'location',
      'inputs',
      'input',
      'outputs',
      'id',
      'policy',
    ]);
    expect(schemas.InferResponse!.required).toEqual([
      'id',
      'model_name',
      'model_version',
      'node',
      'timing',
      'receipt',
    ]);
    expect(Object.keys(schemas.Device!.properties!)).toEqual([
      'devEui',
      'fleet',
      'profile',
      'name',
      'location',
    ]);
    expect(schemas.DeviceInput!.required).toEqual(['fleet', 'profile']);
    expect(doc.paths['/v1/nodes/nearest']!.get).toMatchObject({ security: [{ apiKey: [] }] });
  });

  it('serves a docs page listing every path', async () => {
    const html = await (await app.request('/docs')).text();
    for (const path of Object.keys(doc.paths)) expect(html).toContain(path.replaceAll('&', '&amp;'));
  });
});

describe('parameter validation through zod-openapi keeps the gateway’s errors', () => {
  const auth = { authorization: `Bearer ${KEY}` };
  it.each([
    ['/v1/nodes/nearest?lng=4', 400, 'INVALID_REQUEST', 'query parameter lat is required'],
    ['/v1/nodes/nearest?lat=%20&lng=4', 400, 'INVALID_REQUEST', 'query parameter lat is required'],
    [
      '/v1/nodes/nearest?lat=abc&lng=4',
      400,
      'INVALID_LOCATION',
      'query parameter lat must be a number, got "abc"',
    ],
    [
      '/v1/nodes/nearest?lat=95&lng=4',
      400,
      'INVALID_LOCATION',
      'location.lat must be a number in [-90, 90], got 95',
    ],
    [
      '/v1/nodes/nearest?lat=52&lng=181',
      400,
      'INVALID_LOCATION',
      'location.lng must be a number in [-180, 180], got 181',
    ],
    [
      '/v1/nodes/nearest?lat=52&lng=4&k=0',
      400,
      'INVALID_REQUEST',
      'k must be an integer in [1, 100], got "0"',
    ],
    [
      '/v1/nodes/nearest?lat=52&lng=4&k=2.5',
      400,
      'INVALID_REQUEST',
      'k must be an integer in [1, 100], got "2.5"',
    ],
    [
      '/v1/nodes/desired-models?lat=52&lng=4&memoryMb=12',
      400,
      'INVALID_REQUEST',
      'memoryMb must be an integer in [64, 16777216], got "12"',
    ],
    [
      '/v1/nodes/desired-models?lat=52&lng=4&memoryMb=512&providers=cpu,tpu',
      400,
      'INVALID_REQUEST',
      'providers must be a comma-separated list of cpu, wasm, cuda, tensorrt, webgpu, openvino, qnn, coreml, got "cpu,tpu"',
    ],
    ['/v1/nodes?limit=0', 400, 'INVALID_REQUEST', `limit must be an integer in [1, 1000], got "0"`],
    [
      `/v1/artifacts/${CONTENT_ID}/peers?lat=52`,
      400,
      'INVALID_LOCATION',
      'location.lng must be a number in [-180, 180], got NaN',
    ],
    [
      `/v1/artifacts/${CONTENT_ID}/peers?lat=52&lng=4&k=11`,
      400,
      'INVALID_REQUEST',
      'k must be an integer in [1, 10], got "11"',
    ],
    [
      '/v1/models/XYZ/manifest',
      400,
      'INVALID_REQUEST',
      'content id must be 64 lowercase hex characters, got "XYZ"',
    ],
    ['/v1/devices/xyz', 400, 'INVALID_REQUEST', 'devEui: "xyz" must be 16 hex digits'],
    ['/v1/devices?fleet=Bad!', 400, 'INVALID_REQUEST', 'fleet: "Bad!" is not a fleet id'],
    [
      '/v1/profiles/Bad!',
      400,
      'INVALID_REQUEST',
      'id: "Bad!" must be 1–64 of a-z 0-9 . _ - starting with a letter or digit',
    ],
    ['/v1/network/hexes?res=12', 400, 'INVALID_REQUEST', 'res must be an integer in [0, 9], got "12"'],
    [
      '/v1/network/hexes?metric=colour',
      400,
      'INVALID_REQUEST',
      'metric must be one of coverage, density, trust, demand, latency, got "colour"',
    ],
    ['/v1/network/hexes/nothex', 400, 'INVALID_CELL', 'not an H3 cell of resolution ≤ 9: "nothex"'],
  ])('GET %s → %i %s', async (path, status, code, message) => {
    const res = await app.request(path, { headers: auth });
    const requestId = res.headers.get('x-request-id');
    const { body: answer, problems } = await judge.check('GET', `http://gw${path}`, res);
    expect(res.status).toBe(status);
    expect(answer).toMatchObject({ error: { code, message, requestId } });
    expect(problems).toEqual([]);
  });

  it('keeps the field a path check names (details.field), and checks auth before parameters as before', async () => {
    const res = await app.request('/v1/devices/xyz', { headers: auth });
    expect(await res.json()).toMatchObject({ error: { details: { field: 'devEui' } } });
    const unauthenticated = await app.request('/v1/nodes/nearest?lat=abc&lng=4');
    expect(unauthenticated.status).toBe(401);
  });
});

describe('answers of the in-process app conform to the document', () => {
  const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  const cell = latLngToCell(52.3, 4.8, 7);
  const calls: Array<[string, string, unknown?]> = [
    ['GET', '/healthz'],
    ['GET', '/v1/gateway/identity'],
    ['GET', '/metrics'],
    ['GET', '/docs'],
    ['POST', '/v1/infer', body()],
    ['POST', '/v1/infer', '{'],
    ['POST', '/v1/infer', body({ model: 'nope' })],
    ['GET', '/v1/nodes/nearest?lat=52.3&lng=4.8'],
    ['GET', '/v1/nodes/desired-models?lat=52&lng=4&memoryMb=512'],
    ['GET', '/v1/nodes?limit=10'],
    ['GET', '/v1/nodes/NODE'],
    ['GET', '/v1/nodes/NODE/operator'],
    ['GET', '/v1/nodes/unknown-node'],
    ['GET', '/v1/usage'],
    ['GET', '/v1/usage/detail'],
    ['GET', '/v1/models'],
    ['GET', `/v1/models/${CONTENT_ID}/manifest`],
    ['GET', `/v1/artifacts/${CONTENT_ID}/peers?lat=52&lng=4`],
    ['POST', '/v1/keys', { name: 'app', role: 'app' }],
    ['GET', '/v1/keys'],
    ['DELETE', '/v1/keys/nope'],
    ['GET', '/v1/devices'],
    ['GET', '/v1/devices/a84041000181c0ff'],
    ['PUT', '/v1/devices/A84041000181C0FF', { fleet: 'acme', profile: 'room-comfort-lpp' }],
    ['GET', '/v1/profiles'],
    ['GET', '/v1/profiles/room-comfort-lpp'],
    ['GET', '/v1/network/hexes?res=7&metric=demand'],
    ['GET', `/v1/network/hexes/${cell}`],
    ['GET', '/v1/fleet/events'],
    ['POST', '/v1/events', { type: 'fleet.result', data: { fleet: 'acme', devEui: 'a84041000181c0ff' } }],
    ['GET', '/v1/coverage?cell=abc'],
    ['POST', '/v1/oracle/trust', { body: {} }],
    ['GET', '/dashboard'],
    ['GET', '/dashboard/'],
    ['GET', '/v1/nowhere'],
  ];

  it.each(calls)('%s %s', async (method, rawPath, sent) => {
    const path = rawPath.replace('NODE', near.keys.nodeId);
    const res = await app.request(path, {
      method,
      headers:
        path === '/v1/usage' ||
        path.startsWith('/v1/nodes/nearest') ||
        method !== 'GET' ||
        /keys|devices|profiles|usage|fleet/.test(path)
          ? auth
          : {},
      ...(sent !== undefined ? { body: typeof sent === 'string' ? sent : JSON.stringify(sent) } : {}),
    });
    const { problems } = await judge.check(method, `http://gw${path}`, res);
    if (path === '/v1/nowhere') expect(problems).toEqual(['no path in the document matches /v1/nowhere']);
    else expect(problems).toEqual([]);
  });

  it('the checker fails an answer that does not match: a field renamed, a status not listed', () => {
    const nearest = { method: 'GET', pathname: '/v1/nodes/nearest', contentType: 'application/json' };
    expect(judge.problems({ ...nearest, status: 200, body: { nodes: [] } })).toEqual([]);
    expect(judge.problems({ ...nearest, status: 200, body: { node: [] } }).length).toBeGreaterThan(0);
    expect(
      judge.problems({ ...nearest, status: 404, body: { error: { code: 'NOT_FOUND', message: 'x' } } }),
    ).toEqual(['GET /v1/nodes/nearest does not list status 404']);
  });
});
