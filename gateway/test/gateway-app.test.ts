import { generateNodeKeyPair, signBody, type Tensor } from '@hexedge/protocol';
import { Placement } from '@hexedge/placement';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApp } from '../src/index.ts';
import { body, CONTENT_ID, fakeNodes, KEY, keyRing, MODEL, register, type FakeNode } from './fake-nodes.ts';

describe('gateway app', () => {
  let placement: Placement;
  let near: FakeNode;
  let far: FakeNode;
  let client: ReturnType<typeof fakeNodes>;
  let app: ReturnType<typeof createGatewayApp>['app'];
  const post = (b: string, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) =>
    app.request('/v1/infer', { method: 'POST', body: b, headers: { 'content-type': 'application/json', ...headers } });

  beforeEach(async () => {
    placement = new Placement({ heartbeatIntervalMs: 60_000 });
    near = { keys: await generateNodeKeyPair(), url: 'http://near.test', mode: 'ok' };
    far = { keys: await generateNodeKeyPair(), url: 'http://far.test', mode: 'ok' };
    await register(placement, near, 52.3, 4.8); // Amsterdam
    await register(placement, far, 48.85, 2.35); // Paris
    client = fakeNodes([near, far]);
    app = createGatewayApp({ placement, keys: await keyRing(), nodeClient: client }).app;
  });

  it('serves from the nearest node and returns its checked receipt', async () => {
    const res = await post(body());
    expect(res.status).toBe(200);
    const json = (await res.json()) as { node: { id: string }; outputs: Tensor[] };
    expect(json.node.id).toBe(near.keys.nodeId);
    expect(json.outputs[0]!.data).toEqual([3]);
  });

  it.each(['down', 'http500', 'tamper'] as const)('fails over to the next node when the nearest is %s', async (mode) => {
    near.mode = mode;
    const res = await post(body());
    expect(res.status).toBe(200);
    expect(((await res.json()) as { node: { id: string } }).node.id).toBe(far.keys.nodeId);
    expect(client.calls).toEqual([near.url, far.url]);
  });

  it('answers 502 NODE_FAILED naming the faults when every node fails', async () => {
    near.mode = 'tamper';
    far.mode = 'down';
    const res = await post(body());
    expect(res.status).toBe(502);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('NODE_FAILED');
    // In the gateway's own words: which node failed how, never the node's text or a socket error.
    expect(error.message).toMatch(/receipt that does not check out/);
    expect(error.message).toMatch(/unreachable/);
    expect(error.message).not.toMatch(/ECONNREFUSED|digest/);
  });

  it('answers 503 NO_NODE_AVAILABLE when the nodes serving the model are unhealthy', async () => {
    let now = Date.now();
    const stale = new Placement({ heartbeatIntervalMs: 1000, now: () => now });
    await register(stale, near, 52.3, 4.8);
    now += 10_000;
    const staleApp = createGatewayApp({ placement: stale, keys: await keyRing(), nodeClient: client }).app;
    const res = await staleApp.request('/v1/infer', { method: 'POST', body: body(), headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NO_NODE_AVAILABLE');
  });

  it('refuses a body over the size limit with 413', async () => {
    const big = body({ id: 'x'.repeat(9 * 1024 * 1024) });
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a bad registration signature with 401 and keeps the registry unchanged', async () => {
    const other = await generateNodeKeyPair();
    const signed = await signBody(
      'registration',
      { nodeId: near.keys.nodeId, issuedAtMs: Date.now() + 1, url: 'http://evil.test', location: { lat: 0, lng: 0 }, hardware: { cpuCores: 1, memoryMb: 1, executionProviders: ['cpu' as const] }, models: [MODEL] },
      other.privateKey,
    );
    const res = await app.request('/v1/nodes/register', { method: 'POST', body: JSON.stringify(signed) });
    expect(res.status).toBe(401);
    expect(placement.registry.get(near.keys.nodeId)!.url).toBe(near.url);
  });

  it('validates nearest-node queries', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    expect((await app.request('/v1/nodes/nearest?lat=52&lng=4&k=0', { headers: auth })).status).toBe(400);
    expect((await app.request('/v1/nodes/nearest?lat=abc&lng=4', { headers: auth })).status).toBe(400);
    expect((await app.request('/v1/nodes/nearest?lng=4', { headers: auth })).status).toBe(400);
    const ok = await app.request('/v1/nodes/nearest?lat=49&lng=2&k=1', { headers: auth });
    expect(((await ok.json()) as { nodes: { id: string }[] }).nodes.map((n) => n.id)).toEqual([far.keys.nodeId]);
  });

  it('tells a node which healthy peers hold an artifact, nearest first', async () => {
    const res = await app.request(`/v1/artifacts/${CONTENT_ID}/peers?lat=49&lng=2&k=2`);
    expect(res.status).toBe(200);
    const { peers } = (await res.json()) as { peers: { id: string; url: string }[] };
    expect(peers.map((p) => p.url)).toEqual([far.url, near.url]);
    expect(((await (await app.request(`/v1/artifacts/${'d'.repeat(64)}/peers?lat=49&lng=2`)).json()) as { peers: unknown[] }).peers).toEqual([]);
    expect((await app.request('/v1/artifacts/xyz/peers?lat=49&lng=2')).status).toBe(400);
    expect((await app.request(`/v1/artifacts/${CONTENT_ID}/peers?lat=99&lng=2`)).status).toBe(400);
  });
});
