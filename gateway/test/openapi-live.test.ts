import { startDev, type DevProcess } from '@hexedge/test-kit';
import { Validator } from '@seriousme/openapi-schema-validator';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenApiConformance, type OpenApiDoc } from './openapi-conformance.ts';

/**
 * The live fabric against its own document: `hexedge dev` (buildGateway with every part on — devices,
 * oracle, dashboards, metrics — and a real edge node running comfort-index on onnxruntime) serves
 * /openapi.json; real requests, good and bad, get answers that the document's response schemas accept.
 */
const API_KEY = 'openapi-live-admin-key-0123';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-openapi-'));
let dev: DevProcess;
let judge: OpenApiConformance;

const inferBody = {
  model: 'comfort-index',
  location: { lat: 52.37, lng: 4.9 },
  inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [31, 60, 650] }],
};

/** The fields these tests read, in whichever answer has them. */
interface Answer {
  error: { code: string; message: string };
  nodes: Array<{ id: string }>;
  receipt: { body: { modelName: string } };
  models: Array<{ contentId: string }>;
  devices: Array<{ devEui: string; fleet: string; profile: string }>;
}

async function call(method: string, pathname: string, options: { body?: unknown; key?: string | null } = {}) {
  const headers: Record<string, string> = {};
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? API_KEY}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const url = `${dev.gatewayUrl}${pathname}`;
  const res = await fetch(url, {
    method,
    headers,
    ...(options.body !== undefined
      ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
      : {}),
  });
  const { body, problems } = await judge.check(method, url, res);
  return { status: res.status, body: body as Answer, problems };
}

beforeAll(async () => {
  dev = await startDev([
    '--nodes',
    '1',
    '--port',
    '0',
    '--mqtt-port',
    '0',
    '--data-dir',
    dataDir,
    '--api-key',
    API_KEY,
    '--sim-speed',
    '0',
  ]);
  judge = new OpenApiConformance(
    (await (await fetch(`${dev.gatewayUrl}/openapi.json`)).json()) as OpenApiDoc,
  );
}, 180_000);

afterAll(async () => {
  await dev?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('hexedge dev answers as its /openapi.json says', () => {
  it('serves a document the OpenAPI validator accepts, listing the routes of every part', async () => {
    const result = await new Validator().validate(judge.doc);
    expect(result.errors).toBeUndefined();
    for (const p of [
      '/v1/infer',
      '/v1/devices/{devEui}',
      '/v1/coverage',
      '/v1/oracle/trust',
      '/metrics',
      '/v1/gateway/identity',
      '/v1/events/network',
    ])
      expect(judge.doc.paths).toHaveProperty([p]);
  });

  it('POST /v1/infer on a real model: 200 with the signed receipt; bad JSON 400, bad location 400, no key 401, unknown model 404', async () => {
    const ok = await call('POST', '/v1/infer', { body: inferBody });
    expect(ok.status).toBe(200);
    expect(ok.body.receipt.body.modelName).toBe('comfort-index');
    expect(ok.problems).toEqual([]);
    for (const [body, key, status, code] of [
      ['{"model":', undefined, 400, 'INVALID_JSON'],
      [{ ...inferBody, location: { lat: 95, lng: 0 } }, undefined, 400, 'INVALID_LOCATION'],
      [inferBody, null, 401, 'UNAUTHORIZED'],
      [{ ...inferBody, model: 'no-such-model' }, undefined, 404, 'MODEL_NOT_FOUND'],
    ] as const) {
      const res = await call('POST', '/v1/infer', { body, key });
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
      expect(res.problems).toEqual([]);
    }
  });

  it('nearest, the node list, a node, its operator view, the map: real data conforms', async () => {
    const nearest = await call('GET', '/v1/nodes/nearest?lat=52.37&lng=4.9&model=comfort-index');
    expect(nearest.status).toBe(200);
    expect(nearest.body.nodes.length).toBe(1);
    const nodeId = nearest.body.nodes[0]!.id;
    for (const pathname of [
      '/v1/nodes?limit=5',
      `/v1/nodes/${nodeId}`,
      `/v1/nodes/${nodeId}/operator`,
      '/v1/network/hexes?res=5&metric=latency',
      '/v1/nodes/desired-models?lat=52&lng=4&memoryMb=2048&providers=cpu',
      '/healthz',
      '/v1/gateway/identity',
      '/v1/models',
      '/v1/usage',
      '/v1/usage/detail',
      '/v1/keys',
      '/v1/coverage?lat=52.37&lng=4.9',
    ]) {
      const res = await call('GET', pathname);
      expect(res.status, pathname).toBe(200);
      expect(res.problems, pathname).toEqual([]);
    }
    expect(nearest.problems).toEqual([]);
    const models = await call('GET', '/v1/models');
    const contentId = models.body.models[0]!.contentId;
    for (const pathname of [
      `/v1/models/${contentId}/manifest`,
      `/v1/artifacts/${contentId}/peers?lat=52&lng=4`,
    ]) {
      const res = await call('GET', pathname);
      expect({ pathname, status: res.status, problems: res.problems }).toEqual({
        pathname,
        status: 200,
        problems: [],
      });
    }
    const unknown = await call('GET', '/v1/nodes/not-a-node');
    expect({ status: unknown.status, code: unknown.body.error.code, problems: unknown.problems }).toEqual({
      status: 404,
      code: 'UNKNOWN_NODE',
      problems: [],
    });
    const badK = await call('GET', '/v1/nodes/nearest?lat=52&lng=4&k=0');
    expect({ status: badK.status, message: badK.body.error.message, problems: badK.problems }).toEqual({
      status: 400,
      message: 'k must be an integer in [1, 100], got "0"',
      problems: [],
    });
  });

  it('devices and profiles of the demo fleet: list, read, replace, refuse, 404', async () => {
    const devices = await call('GET', '/v1/devices');
    expect(devices.status).toBe(200);
    expect(devices.problems).toEqual([]);
    const device = devices.body.devices[0]!;
    const calls = [
      await call('GET', `/v1/devices/${device.devEui}`),
      await call('PUT', `/v1/devices/${device.devEui.toUpperCase()}`, {
        body: { fleet: device.fleet, profile: device.profile, name: 'renamed' },
      }),
      await call('GET', '/v1/profiles'),
      await call('GET', `/v1/profiles/${device.profile}`),
    ];
    for (const c of calls)
      expect({ status: c.status, problems: c.problems }).toEqual({ status: 200, problems: [] });
    const refused = await call('PUT', `/v1/devices/${device.devEui}`, {
      body: { fleet: device.fleet, profile: 'no-such-profile' },
    });
    expect({ status: refused.status, problems: refused.problems }).toEqual({ status: 400, problems: [] });
    const missing = await call('GET', '/v1/devices/0000000000000001');
    expect({ status: missing.status, problems: missing.problems }).toEqual({ status: 404, problems: [] });
    const appOnly = await call('GET', '/v1/devices', { key: 'not-a-key-at-all' });
    expect({ status: appOnly.status, problems: appOnly.problems }).toEqual({ status: 401, problems: [] });
  });
});
