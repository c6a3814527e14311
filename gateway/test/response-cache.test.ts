import { Placement } from '@hexedge/placement';
import {
  modelManifestSchema,
  tensorsDigest,
  verifyReceipt,
  type InferResponse,
  type Tensor,
} from '@hexedge/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApp, EventBus } from '../src/index.ts';
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
    // The signed receipt as the node made it (v1 or v2); the unsigned metadata is not kept.
    const { metadata: _fresh, ...freshSigned } = fresh.receipt;
    expect(cached.receipt).toEqual(freshSigned);
    // Offline, with protocol alone: the node's signature holds and the input digest is this request's.
    const inputs = (JSON.parse(body()) as { inputs: Tensor[] }).inputs;
    expect(await verifyReceipt(cached.receipt)).toMatchObject({ ok: true });
    expect(cached.receipt.body.inputDigest).toBe(await tensorsDigest(inputs));
    expect(cached.receipt.body.outputDigest).toBe(await tensorsDigest(cached.outputs as Tensor[]));
    expect(lookups).toEqual(['miss', 'hit']);
  });

  it("keeps tenants apart: another key's identical request goes to a node", async () => {
    await post(body());
    const other = await post(body(), {}, otherKey);
    expect(other.headers.get('X-HexEdge-Cache')).toBe('miss');
    // Asked afresh: a node ran it again (which one is placement's choice: a slow first answer on a
    // busy machine may steer the second request to the farther node).
    expect(client.calls).toHaveLength(2);
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

  it('replays a cached answer by its id whole, with the dashboards watching (their observer reads the same answer)', async () => {
    const keys = await keyRing();
    const catalog = new MemoryModelCatalog();
    catalog.add(manifest, new Uint8Array([1]));
    const events = new EventBus();
    app = createGatewayApp({
      placement,
      keys,
      nodeClient: client,
      catalog,
      cache: new InferCache(),
      dashboard: { events, staticAssets: async () => undefined },
    }).app;
    expect((await post(body({ id: 'a' }))).headers.get('X-HexEdge-Cache')).toBe('miss');
    const hit = await post(body({ id: 'b' }));
    expect(hit.headers.get('X-HexEdge-Cache')).toBe('hit');
    const first = (await hit.json()) as InferResponse;
    const replay = await post(body({ id: 'b' }));
    expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    const again = (await replay.json()) as InferResponse;
    expect(again.node.id).toBe(near.keys.nodeId);
    expect(again).toEqual(first);
    expect(await verifyReceipt(again.receipt)).toMatchObject({ ok: true });
    // The dashboards saw the hit without node time (it was not served by its node now).
    const seen = events.recent((e) => e.audience.kind === 'key').map((e) => e.data as { nodeId?: string });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.nodeId).toBeUndefined();
  });
});
