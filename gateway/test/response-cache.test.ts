import { Placement } from '@hexedge/placement';
import {
  isValidSignature,
  modelManifestSchema,
  tensorsDigest,
  type InferResponse,
  type Tensor,
} from '@hexedge/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApp } from '../src/index.ts';
import { MemoryModelCatalog } from '../src/catalog.ts';
import { InferCache } from '../src/cache/infer-cache.ts';
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

// The response cache through the gateway's HTTP API, in front of in-memory nodes that sign real
// Ed25519 receipts (the real-node path: cli/test/cache-priority.e2e.test.ts).
const manifest = modelManifestSchema.parse({
  name: 'm',
  version: '1',
  task: 'double',
  contentId: CONTENT_ID,
  sizeBytes: 1,
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
  batchable: true,
  license: 'MIT',
  source: 'test',
});

describe('verifiable response cache (HTTP)', () => {
  let placement: Placement;
  let near: FakeNode;
  let far: FakeNode;
  let client: ReturnType<typeof fakeNodes>;
  let app: ReturnType<typeof createGatewayApp>['app'];
  let otherKey: string;
  const lookups: string[] = [];
  const post = (b: string, headers: Record<string, string> = {}, key = KEY) =>
    app.request('/v1/infer', {
      method: 'POST',
      body: b,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    });

  beforeEach(async () => {
    placement = new Placement({ heartbeatIntervalMs: 60_000, assumeLocationsVerified: true });
    near = await fakeNode('http://near.test');
    far = await fakeNode('http://far.test');
    await register(placement, near, 52.3, 4.8);
    await register(placement, far, 48.85, 2.35);
    client = fakeNodes([near, far]);
    const catalog = new MemoryModelCatalog();
    catalog.add(manifest, new Uint8Array([1]));
    const keys = await keyRing();
    otherKey = (await keys.create({ name: 'other tenant' })).key;
    lookups.length = 0;
    const cache = new InferCache({ onLookup: (o) => lookups.push(o) });
    app = createGatewayApp({ placement, keys, nodeClient: client, catalog, cache }).app;
  });

  it('answers a repeat from the cache with the original signed receipt, which verifies offline against the request', async () => {
    const first = await post(body({ id: 'first' }));
    expect(first.status).toBe(200);
    expect(first.headers.get('X-HexEdge-Cache')).toBe('miss');
    const again = await post(body({ id: 'second' }));
    expect(again.status).toBe(200);
    expect(again.headers.get('X-HexEdge-Cache')).toBe('hit');
    expect(client.calls).toEqual([near.url]);
    const fresh = (await first.json()) as InferResponse;
    const cached = (await again.json()) as InferResponse;
    expect(cached.id).toBe('second');
    expect(cached.cached).toMatchObject({ requestId: 'first', ageMs: expect.any(Number) });
    expect(cached.outputs).toEqual(fresh.outputs);
    expect(cached.receipt.body).toEqual(fresh.receipt.body);
    expect(cached.receipt.signature).toBe(fresh.receipt.signature);
    // Offline, with protocol alone: the node's signature holds and the input digest is this request's.
    const inputs = (JSON.parse(body()) as { inputs: Tensor[] }).inputs;
    expect(await isValidSignature('receipt', cached.receipt)).toBe(true);
    expect(cached.receipt.body.inputDigest).toBe(await tensorsDigest(inputs));
    expect(cached.receipt.body.outputDigest).toBe(await tensorsDigest(cached.outputs as Tensor[]));
    expect(lookups).toEqual(['miss', 'hit']);
  });

  it("keeps tenants apart: another key's identical request goes to a node", async () => {
    await post(body());
    const other = await post(body(), {}, otherKey);
    expect(other.headers.get('X-HexEdge-Cache')).toBe('miss');
    expect(client.calls).toEqual([near.url, near.url]);
  });

  it('stops serving an entry once its node is under the trust floor (revoked): the next node answers afresh', async () => {
    await post(body());
    placement.setTrust(near.keys.nodeId, 0.05, ['fraud']);
    const res = await post(body());
    expect(res.headers.get('X-HexEdge-Cache')).toBe('miss');
    expect(((await res.json()) as InferResponse).node.id).toBe(far.keys.nodeId);
    expect(client.calls).toEqual([near.url, far.url]);
  });

  it('honours policy.cache: false and Cache-Control: no-cache / no-store', async () => {
    await post(body({ policy: { cache: false } }));
    expect(client.calls.length).toBe(1);
    expect((await post(body(), { 'cache-control': 'no-store' })).headers.get('X-HexEdge-Cache')).toBe('miss');
    expect((await post(body(), { 'cache-control': 'no-cache' })).headers.get('X-HexEdge-Cache')).toBe(
      'bypass',
    );
    expect(client.calls.length).toBe(3);
    // no-cache stored its fresh answer: now a plain request hits.
    expect((await post(body())).headers.get('X-HexEdge-Cache')).toBe('hit');
    expect((await post(body({ policy: { cache: false } }))).headers.get('X-HexEdge-Cache')).toBe('bypass');
    expect(client.calls.length).toBe(4);
  });

  it('caches only successful answers: a failed request is asked again', async () => {
    near.mode = 'tamper';
    far.mode = 'down';
    expect((await post(body())).status).toBe(502);
    near.mode = 'ok';
    const res = await post(body());
    expect(res.status).toBe(200);
    expect(res.headers.get('X-HexEdge-Cache')).toBe('miss');
  });
});
