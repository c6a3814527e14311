import { Placement } from '@hexedge/placement';
import {
  checkForward,
  FORWARDER_HEADER,
  generateNodeKeyPair,
  RERUN_PATH,
  signRerun,
  type ModelManifest,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryModelCatalog } from '../src/catalog.ts';
import { createGatewayApp, type NodeClient } from '../src/index.ts';
import { body, CONTENT_ID, fakeNodes, KEY, keyRing, register, type FakeNode } from './fake-nodes.ts';

/*
 * What the gateway sends a node is signed for that node (the node serves nothing else), and the
 * oracle's spot-check re-runs leave through the same path as live traffic: same route, same headers,
 * same signature. Only a configured oracle may ask for one, fresh and once.
 */
let oracle: NodeKeyPair, stranger: NodeKeyPair, forwardKeys: NodeKeyPair;
let near: FakeNode;
const seen: Array<{ url: string; headers: Record<string, string>; verified: boolean }> = [];

const manifest = (contentId: string) =>
  ({ name: 'm', version: '1', contentId, sizeBytes: 1, inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] }) as unknown as ModelManifest;

async function gateway(options: { catalogueContentId?: string } = {}) {
  const placement = new Placement({ heartbeatIntervalMs: 60_000, assumeLocationsVerified: true });
  await register(placement, near, 52.3, 4.8);
  const inner = fakeNodes([near]);
  // The node's side of the wire: it checks the forward signature as an edge node does.
  const nodeClient: NodeClient = {
    async post(request) {
      const headers = request.headers ?? {};
      const route = request.url.endsWith('/predict') ? 'predict' : 'infer';
      const check = await checkForward({
        header: (h) => headers[h],
        targetNodeId: near.keys.nodeId,
        route,
        modelName: 'm',
        modelVersion: '1',
        body: request.body,
        isKnown: (id) => id === forwardKeys.nodeId,
        nowMs: Date.now(),
      });
      seen.push({ url: request.url, headers, verified: check.ok });
      return inner.post(request);
    },
  };
  const catalog = new MemoryModelCatalog();
  catalog.add(manifest(options.catalogueContentId ?? CONTENT_ID), new Uint8Array([1]));
  return createGatewayApp({
    placement,
    keys: await keyRing(),
    nodeClient,
    catalog,
    forwardKeys,
    oracle: { url: 'http://oracle.test', oracleIds: [oracle.nodeId] },
  }).app;
}

beforeAll(async () => {
  [oracle, stranger, forwardKeys] = await Promise.all([1, 2, 3].map(() => generateNodeKeyPair()));
  near = { keys: await generateNodeKeyPair(), url: 'http://near.test', mode: 'ok' };
});

const rerunOf = (signer: NodeKeyPair, o: { nowMs?: number; target?: string } = {}) =>
  signRerun({
    oracle: signer,
    targetNodeId: o.target ?? near.keys.nodeId,
    request: {
      kind: 'tensors',
      modelName: 'm',
      modelVersion: '1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [2] }],
    },
    nowMs: o.nowMs ?? Date.now(),
  });
const post = async (
  app: Awaited<ReturnType<typeof gateway>>,
  path: string,
  message: unknown,
  headers: Record<string, string> = {},
) => {
  const res = await app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof message === 'string' ? message : JSON.stringify(message),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('signed forwarding and oracle re-runs', () => {
  it('signs live traffic for its node, and forwards a re-run the same way', async () => {
    const app = await gateway();
    seen.length = 0;
    expect((await post(app, '/v1/infer', body(), { authorization: `Bearer ${KEY}` })).status).toBe(200);
    const rerun = await post(app, RERUN_PATH, await rerunOf(oracle));
    expect(rerun.status).toBe(200);
    expect(rerun.body).toMatchObject({
      outputs: [{ data: [4] }],
      parameters: { hexedge_receipt: expect.any(String) },
    });
    expect(seen.map((s) => s.verified)).toEqual([true, true]);
    // Indistinguishable at the node: the same route and the same header names, by the same forwarder.
    expect(seen[1]!.url).toBe(seen[0]!.url);
    expect(Object.keys(seen[1]!.headers).sort()).toEqual(Object.keys(seen[0]!.headers).sort());
    expect(seen[1]!.headers[FORWARDER_HEADER]).toBe(seen[0]!.headers[FORWARDER_HEADER]);
  });

  it("gives a re-run the checked request's priority, deadline and trace, as live traffic carries them", async () => {
    const app = await gateway();
    seen.length = 0;
    const live = await post(app, '/v1/infer', body({ policy: { priority: 'high', deadlineMs: 2_500 } }), {
      authorization: `Bearer ${KEY}`,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(live.status).toBe(200);
    // What the oracle sends, from the receipt report's context: the spot check's span, priority, deadline.
    const rerun = await post(app, RERUN_PATH, await rerunOf(oracle), {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-aaaaaaaaaaaaaaaa-01',
      'x-hexedge-priority': 'high',
      'x-hexedge-deadline-ms': '2500',
    });
    expect(rerun.status).toBe(200);
    const [l, r] = [seen[0]!.headers, seen[1]!.headers];
    expect(Object.keys(r).sort()).toEqual(Object.keys(l).sort());
    expect(r['x-hexedge-priority']).toBe('high');
    for (const h of [l, r]) expect(Number(h['x-hexedge-deadline-ms'])).toBeGreaterThan(2_000);
    for (const h of [l, r]) expect(Number(h['x-hexedge-deadline-ms'])).toBeLessThan(2_500);
    expect(r.traceparent!.slice(3, 35)).toBe(l.traceparent!.slice(3, 35));
  });

  it('takes re-runs only from a configured oracle, signed, fresh and once, for a node it knows', async () => {
    const app = await gateway();
    expect((await post(app, RERUN_PATH, await rerunOf(stranger))).status).toBe(403);
    const forged = { ...(await rerunOf(oracle)), signature: (await rerunOf(stranger)).signature };
    expect((await post(app, RERUN_PATH, forged)).status).toBe(401);
    expect((await post(app, RERUN_PATH, await rerunOf(oracle, { nowMs: Date.now() - 61_000 }))).status).toBe(
      409,
    );
    const once = await rerunOf(oracle);
    expect((await post(app, RERUN_PATH, once)).status).toBe(200);
    expect((await post(app, RERUN_PATH, once)).body).toMatchObject({ error: { code: 'REPLAYED' } });
    expect((await post(app, RERUN_PATH, await rerunOf(oracle, { target: stranger.nodeId }))).status).toBe(
      404,
    );
    expect((await post(app, RERUN_PATH, '{')).status).toBe(400);
  });

  it('a node announcing a content id the catalogue does not list for its model is a node fault', async () => {
    const app = await gateway({ catalogueContentId: 'd'.repeat(64) });
    const res = await post(app, '/v1/infer', body(), { authorization: `Bearer ${KEY}` });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({
      error: { code: 'NODE_FAILED', message: expect.stringMatching(/catalogue lists/) },
    });
  });
});
