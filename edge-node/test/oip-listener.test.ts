import {
  generateNodeKeyPair,
  RECEIPT_PARAMETER,
  signForward,
  tensorToBytes,
  verifyReceipt,
  type NodeKeyPair,
  type SignedReceipt,
} from '@hexedge/protocol';
import { listenHttp, type HttpListener } from '@hexedge/protocol/node';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildComfortIndexModel, comfortIndexManifest, createOipApp, ModelSet } from '../src/index.ts';
import { listenOip, OrtNodeBackend } from '../src/node/index.ts';

/**
 * The Node listener's direct infer route (node/oip-listener.ts) against the same app served by
 * @hono/node-server alone (protocol's listenHttp), over real sockets: every answer alike — status,
 * content type, error object, receipt — and what the direct route leaves to hono still served.
 */
let models: ModelSet;
let gateway: NodeKeyPair;
let node: NodeKeyPair;
let direct: HttpListener;
let viaHono: HttpListener;
let signedDirect: HttpListener;

beforeAll(async () => {
  const bytes = buildComfortIndexModel();
  const manifest = await comfortIndexManifest(bytes);
  models = new ModelSet();
  models.add(await (await OrtNodeBackend.create()).load({ manifest, bytes }));
  node = await generateNodeKeyPair();
  gateway = await generateNodeKeyPair();
  const app = createOipApp({ models, keys: node, isReady: () => true });
  direct = await listenOip({ app, port: 0, host: '127.0.0.1' });
  viaHono = await listenHttp({ app, port: 0, host: '127.0.0.1' });
  const callers = { isKnown: (id: string) => id === gateway.nodeId };
  signedDirect = await listenOip({
    app: createOipApp({ models, keys: node, isReady: () => true, callers }),
    port: 0,
    host: '127.0.0.1',
  });
});
afterAll(async () => {
  await Promise.all([direct, viaHono, signedDirect].map((l) => l.close()));
  await models.releaseAll();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
/**
 * A raw HTTP/1.1 request (node:http, so headers and framing are exactly what is given), each on its own
 * connection: a request that declares more body than it sends must not leave a kept-alive socket behind.
 */
function send(
  base: string,
  o: {
    path: string;
    method?: string;
    headers?: Record<string, string>;
    body?: Uint8Array | string;
    chunked?: boolean;
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = typeof o.body === 'string' ? Buffer.from(o.body) : o.body ? Buffer.from(o.body) : undefined;
    const headers: Record<string, string> = { ...o.headers };
    if (body && !o.chunked && headers['content-length'] === undefined)
      headers['content-length'] = String(body.length);
    const req = http.request(
      `${base}${o.path}`,
      { method: o.method ?? 'POST', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    if (body && o.chunked) req.write(body.subarray(0, 5));
    req.end(o.chunked ? body?.subarray(5) : body);
  });
}

const readings = (data: unknown, shape = [1, 3]) => ({
  inputs: [{ name: 'readings', datatype: 'FP32', shape, data }],
});
const json = (v: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(v) });
const PATH = '/v2/models/comfort-index/infer';

/** The same request to both servers: equal status, content type, Retry-After and body. */
async function expectAlike(o: Parameters<typeof send>[1]): Promise<Answer> {
  const [a, b] = await Promise.all([send(direct.url, o), send(viaHono.url, o)]);
  expect({ status: a.status, type: a.headers['content-type'], retry: a.headers['retry-after'] }).toEqual({
    status: b.status,
    type: b.headers['content-type'],
    retry: b.headers['retry-after'],
  });
  expect(a.headers['content-length']).toBe(String(a.body.length));
  if (a.status !== 200) expect(a.body.toString()).toBe(b.body.toString());
  return a;
}

describe('the Node listener’s direct infer route', () => {
  it('answers a JSON infer like hono does, with a receipt that verifies', async () => {
    const a = await expectAlike({ path: PATH, ...json({ id: 'j1', ...readings([30, 50, 600]) }) });
    expect(a.status).toBe(200);
    const body = JSON.parse(a.body.toString()) as {
      id: string;
      outputs: unknown[];
      parameters: Record<string, string>;
    };
    expect(body.id).toBe('j1');
    const receipt = JSON.parse(body.parameters[RECEIPT_PARAMETER]!) as SignedReceipt;
    expect(await verifyReceipt(receipt)).toMatchObject({ ok: true });
  });

  it('answers a binary-extension infer like hono does (outputs as bytes)', async () => {
    const x = { name: 'readings', datatype: 'FP32' as const, shape: [2, 3] };
    const bytes = tensorToBytes({ ...x, data: [30, 50, 600, 22, 45, 1600] });
    const header = new TextEncoder().encode(
      JSON.stringify({
        inputs: [{ ...x, parameters: { binary_data_size: bytes.length } }],
        parameters: { binary_data_output: true },
      }),
    );
    const body = new Uint8Array([...header, ...bytes]);
    const headers = {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
    };
    const [a, b] = await Promise.all(
      [direct.url, viaHono.url].map((base) => send(base, { path: PATH, headers, body })),
    );
    expect(a!.status).toBe(200);
    expect(a!.headers['inference-header-content-length']).toBeDefined();
    const tail = (r: Answer) => r.body.subarray(Number(r.headers['inference-header-content-length']));
    expect(tail(a!)).toEqual(tail(b!));
  });

  it.each([
    ['an unknown model', { path: '/v2/models/nope/infer', ...json(readings([1, 2, 3])) }, 404],
    [
      'an unknown version',
      { path: '/v2/models/comfort-index/versions/9/infer', ...json(readings([1, 2, 3])) },
      404,
    ],
    [
      'malformed JSON',
      { path: PATH, headers: { 'content-type': 'application/json' }, body: '{"inputs":' },
      400,
    ],
    ['a schema error', { path: PATH, ...json({ inputs: [] }) }, 400],
    [
      'extra keys and an unknown input',
      { path: PATH, ...json({ x: 1, inputs: [{ name: 'nope', datatype: 'FP32', shape: [1], data: [1] }] }) },
      400,
    ],
    [
      'a non-finite element',
      {
        path: PATH,
        headers: { 'content-type': 'application/json' },
        body: '{"inputs":[{"name":"readings","datatype":"FP32","shape":[1,3],"data":[1,1e999,3]}]}',
      },
      400,
    ],
    [
      'a bad priority header',
      { path: PATH, ...json(readings([1, 2, 3])), headers: { 'x-hexedge-priority': 'urgent' } },
      400,
    ],
    [
      'a declared body over 32 MiB',
      { path: PATH, headers: { 'content-length': String(33 * 2 ** 20) }, body: '' },
      413,
    ],
    [
      'a bad binary header length',
      { path: PATH, headers: { 'inference-header-content-length': '999' }, body: '{}' },
      400,
    ],
  ])('refuses %s with the same error as hono', async (_what, request, status) => {
    const a = await expectAlike(request as Parameters<typeof send>[1]);
    expect(a.status).toBe(status);
    expect(JSON.parse(a.body.toString())).toMatchObject({
      code: expect.any(String),
      error: expect.any(String),
    });
  });

  it('leaves chunked bodies, query strings, %-escapes and other routes to hono, which serves them', async () => {
    const body = JSON.stringify(readings([21, 40, 500]));
    expect(
      (
        await send(direct.url, {
          path: PATH,
          headers: { 'content-type': 'application/json' },
          body,
          chunked: true,
        })
      ).status,
    ).toBe(200);
    expect((await send(direct.url, { path: `${PATH}?x=1`, ...json(readings([21, 40, 500])) })).status).toBe(
      200,
    );
    expect(
      (await send(direct.url, { path: '/v2/models/comfort%2Dindex/infer', ...json(readings([21, 40, 500])) }))
        .status,
    ).toBe(200);
    expect((await send(direct.url, { path: '/v2/health/live', method: 'GET' })).body.toString()).toBe(
      '{"live":true}',
    );
    await expectAlike({ path: `${PATH}/`, ...json(readings([1, 2, 3])) });
  });

  it('keeps the connection serving after a refusal it answered before reading the body', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const once = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const body = JSON.stringify(readings([21, 40, 500]));
        const req = http.request(
          `${direct.url}${path}`,
          { method: 'POST', agent, headers: { 'content-length': String(body.length) } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    expect(await once('/v2/models/nope/infer')).toBe(404);
    expect(await once(PATH)).toBe(200);
    agent.destroy();
  });

  it('checks the forward signature on the direct route: signed serves, unsigned or changed is 403', async () => {
    const body = JSON.stringify(readings([30, 50, 600]));
    const headers = await signForward({
      keys: gateway,
      targetNodeId: node.nodeId,
      route: 'infer',
      modelName: 'comfort-index',
      modelVersion: '1',
      body,
      nowMs: Date.now(),
    });
    expect((await send(signedDirect.url, { path: PATH, headers, body })).status).toBe(200);
    const unsigned = await send(signedDirect.url, { path: PATH, body });
    expect(unsigned.status).toBe(403);
    expect(JSON.parse(unsigned.body.toString())).toMatchObject({ code: 'FORBIDDEN' });
    expect(
      (await send(signedDirect.url, { path: PATH, headers, body: body.replace('30', '31') })).status,
    ).toBe(403);
  });
});
