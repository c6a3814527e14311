import { Placement } from '@hexedge/placement';
import {
  generateNodeKeyPair,
  RECEIPT_PARAMETER,
  signBody,
  tensorsDigest,
  type NodeKeyPair,
  type OipInferenceRequest,
  type Tensor,
} from '@hexedge/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiKeys, createGatewayApp, type NodeAnswer, type NodeClient } from '../src/index.ts';

const KEY = 'unit-test-key';
const CONTENT_ID = 'c'.repeat(64);
const MODEL = { name: 'm', version: '1', contentId: CONTENT_ID, ready: true };

interface FakeNode {
  keys: NodeKeyPair;
  url: string;
  /** How this node behaves: answer honestly, fail with 500, lie in its output, or be unreachable. */
  mode: 'ok' | 'http500' | 'tamper' | 'down';
}

/** An in-memory stand-in for edge nodes: doubles every input value and signs a real receipt. */
function fakeNodes(nodes: FakeNode[]): NodeClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async infer({ nodeUrl, request }: { nodeUrl: string; request: OipInferenceRequest }): Promise<NodeAnswer> {
      const node = nodes.find((n) => n.url === nodeUrl)!;
      calls.push(node.url);
      if (node.mode === 'down') throw new Error('connect ECONNREFUSED');
      if (node.mode === 'http500') return { status: 500, body: { error: 'boom' } };
      const inputs = request.inputs as Tensor[];
      const outputs: Tensor[] = [{ name: 'y', datatype: 'FP32', shape: inputs[0]!.shape, data: (inputs[0]!.data as number[]).map((v) => v * 2) }];
      const receipt = await signBody(
        'receipt',
        {
          nodeId: node.keys.nodeId,
          requestId: request.id!,
          modelName: 'm',
          modelVersion: '1',
          modelContentId: CONTENT_ID,
          inputDigest: await tensorsDigest(inputs),
          outputDigest: await tensorsDigest(outputs),
          issuedAtMs: Date.now(),
          serviceTimeMs: 1,
        },
        node.keys.privateKey,
      );
      if (node.mode === 'tamper') outputs[0]!.data = [42];
      return { status: 200, body: { model_name: 'm', model_version: '1', id: request.id, parameters: { [RECEIPT_PARAMETER]: JSON.stringify(receipt) }, outputs } };
    },
  };
}

async function register(placement: Placement, node: FakeNode, lat: number, lng: number) {
  const signed = await signBody(
    'registration',
    { nodeId: node.keys.nodeId, issuedAtMs: Date.now(), url: node.url, location: { lat, lng }, hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu' as const] }, models: [MODEL] },
    node.keys.privateKey,
  );
  await placement.registry.register(signed);
}

const body = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'm', location: { lat: 52.37, lng: 4.9 }, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }], ...extra });

describe('gateway app', () => {
  let placement: Placement;
  let near: FakeNode;
  let far: FakeNode;
  let client: ReturnType<typeof fakeNodes>;
  let app: ReturnType<typeof createGatewayApp>;
  const post = (b: string, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) =>
    app.request('/v1/infer', { method: 'POST', body: b, headers: { 'content-type': 'application/json', ...headers } });

  beforeEach(async () => {
    placement = new Placement({ heartbeatIntervalMs: 60_000 });
    near = { keys: await generateNodeKeyPair(), url: 'http://near.test', mode: 'ok' };
    far = { keys: await generateNodeKeyPair(), url: 'http://far.test', mode: 'ok' };
    await register(placement, near, 52.3, 4.8); // Amsterdam
    await register(placement, far, 48.85, 2.35); // Paris
    client = fakeNodes([near, far]);
    app = createGatewayApp({ placement, apiKeys: await ApiKeys.fromKeys([KEY]), nodeClient: client });
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
    expect(error.message).toMatch(/output digest/);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('answers 503 NO_NODE_AVAILABLE when the nodes serving the model are unhealthy', async () => {
    let now = Date.now();
    const stale = new Placement({ heartbeatIntervalMs: 1000, now: () => now });
    await register(stale, near, 52.3, 4.8);
    now += 10_000;
    const staleApp = createGatewayApp({ placement: stale, apiKeys: await ApiKeys.fromKeys([KEY]), nodeClient: client });
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
});
