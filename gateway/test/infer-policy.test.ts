import { Placement } from '@hexedge/placement';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApp } from '../src/index.ts';
import { body, fakeNode, fakeNodes, KEY, keyRing, register, type FakeNode } from './fake-nodes.ts';

describe('deadlines, hedging, idempotency and domain inputs', () => {
  let near: FakeNode;
  let far: FakeNode;
  let client: ReturnType<typeof fakeNodes>;
  let app: ReturnType<typeof createGatewayApp>['app'];
  const post = (b: string) => app.request('/v1/infer', { method: 'POST', body: b, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } });

  beforeEach(async () => {
    const placement = new Placement({ heartbeatIntervalMs: 60_000 });
    near = await fakeNode('http://near.test');
    far = await fakeNode('http://far.test');
    await register(placement, near, 52.3, 4.8);
    await register(placement, far, 48.85, 2.35);
    client = fakeNodes([near, far]);
    app = createGatewayApp({ placement, keys: await keyRing(), nodeClient: client }).app;
  });

  it('hedges a slow first node: the second copy answers first and wins', async () => {
    near.mode = 'slow';
    near.delayMs = 2_000;
    const started = performance.now();
    const res = await post(body({ policy: { hedge: true } }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { node: { id: string } }).node.id).toBe(far.keys.nodeId);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(client.calls).toEqual([near.url, far.url]);
  });

  it('without hedging waits for the first node', async () => {
    near.mode = 'slow';
    near.delayMs = 80;
    const res = await post(body());
    expect(((await res.json()) as { node: { id: string } }).node.id).toBe(near.keys.nodeId);
    expect(client.calls).toEqual([near.url]);
  });

  it('moves on from a node that went silent in time for the next one to answer within the deadline', async () => {
    near.mode = 'slow';
    near.delayMs = 60_000; // a host that accepted the connection and then said nothing
    const started = performance.now();
    const res = await post(body({ policy: { deadlineMs: 1_000 } }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { node: { id: string } }).node.id).toBe(far.keys.nodeId);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(client.calls).toEqual([near.url, far.url]);
  });

  it('answers 504 DEADLINE_EXCEEDED when no node answers within the deadline', async () => {
    near.mode = 'slow';
    far.mode = 'slow';
    near.delayMs = far.delayMs = 1_000;
    const res = await post(body({ policy: { deadlineMs: 100 } }));
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('DEADLINE_EXCEEDED');
  });

  it('answers a repeated id once: the retry gets the first answer without a second inference', async () => {
    const first = await post(body({ id: 'req-42' }));
    const again = await post(body({ id: 'req-42' }));
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    expect(client.calls).toHaveLength(1);
    await post(body({ id: 'req-43' }));
    expect(client.calls).toHaveLength(2);
  });

  it('forwards a domain input to the pipeline and checks the JSON receipt', async () => {
    const res = await post(JSON.stringify({ model: 'm', location: { lat: 52.3, lng: 4.8 }, input: { value: 21 } }));
    expect(res.status).toBe(200);
    const json = (await res.json()) as { output: unknown; outputs?: unknown };
    expect(json.output).toEqual({ doubled: 42 });
    expect(json.outputs).toBeUndefined();
  });

  it('refuses both or neither of inputs and input', async () => {
    const both = await post(JSON.stringify({ model: 'm', location: { lat: 0, lng: 0 }, input: 1, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }));
    expect(both.status).toBe(400);
    const neither = await post(JSON.stringify({ model: 'm', location: { lat: 0, lng: 0 } }));
    expect(((await neither.json()) as { error: { message: string } }).error.message).toMatch(/either inputs .* or input/);
  });

  it('carries a request id on every answer, allows CORS, and serves OpenAPI and docs', async () => {
    const res = await app.request('/v1/infer', { method: 'POST', body: '{', headers: { authorization: `Bearer ${KEY}`, origin: 'https://app.example' } });
    const requestId = res.headers.get('X-Request-Id');
    expect(requestId).toMatch(/.+/);
    expect(((await res.json()) as { error: { requestId: string } }).error.requestId).toBe(requestId);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const doc = (await (await app.request('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/infer');
    expect(Object.keys(doc.components.schemas.InferRequest!.properties!)).toEqual(expect.arrayContaining(['model', 'location', 'inputs', 'input', 'policy']));
    expect(await (await app.request('/docs')).text()).toContain('/v1/nodes/nearest');
  });
});
