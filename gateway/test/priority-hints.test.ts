import { Placement } from '@hexedge/placement';
import { parseTraceparent, type InferResponse } from '@hexedge/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApp, type NodeAnswer, type NodeClient } from '../src/index.ts';
import { InFlightLimiter } from '../src/infer/in-flight.ts';
import { body, fakeNode, fakeNodes, KEY, keyRing, register, type FakeNode } from './fake-nodes.ts';

const CALLER_TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** Records each forwarded request's headers; answers 503 OVERLOADED for nodes listed in `full`. */
function recordingClient(nodes: FakeNode[], full: Set<string>, retryAfterMs: Record<string, number>) {
  const inner = fakeNodes(nodes);
  const seen: { url: string; headers: Record<string, string> }[] = [];
  const client: NodeClient = {
    async post(o): Promise<NodeAnswer> {
      seen.push({ url: o.url, headers: o.headers ?? {} });
      const node = nodes.find((n) => o.url.startsWith(n.url))!;
      if (full.has(node.url))
        return {
          status: 503,
          body: { error: 'queue full', code: 'OVERLOADED', retry_after_ms: retryAfterMs[node.url] },
        };
      return inner.post(o);
    },
  };
  return { client, seen };
}

describe('priorities, deadlines and traces from the API to the node', () => {
  let near: FakeNode;
  let far: FakeNode;
  let app: ReturnType<typeof createGatewayApp>['app'];
  let seen: ReturnType<typeof recordingClient>['seen'];
  const full = new Set<string>();
  const post = (b: string, headers: Record<string, string> = {}) =>
    app.request('/v1/infer', {
      method: 'POST',
      body: b,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers },
    });

  beforeEach(async () => {
    const placement = new Placement({ heartbeatIntervalMs: 60_000 });
    near = await fakeNode('http://near.test');
    far = await fakeNode('http://far.test');
    await register(placement, near, 52.3, 4.8);
    await register(placement, far, 48.85, 2.35);
    full.clear();
    const r = recordingClient([near, far], full, { [near.url]: 2_500, [far.url]: 4_000 });
    seen = r.seen;
    app = createGatewayApp({ placement, keys: await keyRing(), nodeClient: r.client }).app;
  });

  it("forwards policy.priority, the deadline left and the caller's trace to the node", async () => {
    const res = await post(body({ policy: { priority: 'high', deadlineMs: 4_000 } }), {
      traceparent: CALLER_TRACE,
    });
    expect(res.status).toBe(200);
    const h = seen[0]!.headers;
    expect(h['x-hexedge-priority']).toBe('high');
    expect(Number(h['x-hexedge-deadline-ms'])).toBeGreaterThan(3_000);
    expect(Number(h['x-hexedge-deadline-ms'])).toBeLessThanOrEqual(4_000);
    const forwarded = parseTraceparent(h.traceparent);
    expect(forwarded?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(forwarded?.spanId).not.toBe('b7ad6b7169203331');
    // The answer names the gateway's span in the caller's trace.
    expect(parseTraceparent(res.headers.get('traceparent'))?.traceId).toBe(
      '0af7651916cd43dd8448eb211c80319c',
    );
  });

  it('takes priority and deadline from headers when the body says nothing, the body winning otherwise', async () => {
    await post(body(), { 'x-hexedge-priority': 'low', 'x-hexedge-deadline-ms': '2500' });
    expect(seen[0]!.headers['x-hexedge-priority']).toBe('low');
    expect(Number(seen[0]!.headers['x-hexedge-deadline-ms'])).toBeLessThanOrEqual(2_500);
    await post(body({ policy: { priority: 'high' } }), { 'x-hexedge-priority': 'low' });
    expect(seen[1]!.headers['x-hexedge-priority']).toBe('high');
    // Without any: no priority header (the node's default, normal), and a fresh trace.
    await post(body());
    expect(seen[2]!.headers['x-hexedge-priority']).toBeUndefined();
    expect(parseTraceparent(seen[2]!.headers.traceparent)).toBeDefined();
  });

  it('refuses a bad priority or deadline, naming it, before any node is asked', async () => {
    const bad = await post(body(), { 'x-hexedge-priority': 'urgent' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /"urgent" must be one of high, normal, low/,
    );
    const badBody = await post(body({ policy: { priority: 'urgent' } }));
    expect(badBody.status).toBe(400);
    const badDeadline = await post(body(), { 'x-hexedge-deadline-ms': '600001' });
    expect(badDeadline.status).toBe(400);
    expect(seen).toEqual([]);
  });

  it('answers 503 OVERLOADED with the shortest Retry-After when every node asked is full (the fabric has no room)', async () => {
    full.add(near.url).add(far.url);
    const res = await post(body({ policy: { priority: 'low' } }));
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('3');
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('OVERLOADED');
    expect(error.message).toMatch(/every node asked \(2\) is at capacity .* at low priority/);
  });

  it('fails over from a full node to one with room', async () => {
    full.add(near.url);
    const res = await post(body());
    expect(res.status).toBe(200);
    expect(((await res.json()) as InferResponse).node.id).toBe(far.keys.nodeId);
  });
});

describe('InFlightLimiter: a caller over its share is 429', () => {
  it('bounds high priority to a quarter of a caller’s in-flight allowance; normal still gets in', () => {
    const limiter = new InFlightLimiter({ maxPerCaller: 8, maxTotal: 100 });
    const held = [limiter.acquire('a', 'high'), limiter.acquire('a', 'high')];
    expect(() => limiter.acquire('a', 'high')).toThrow(
      expect.objectContaining({
        code: 'RATE_LIMITED',
        message: expect.stringContaining('2 high-priority requests in progress (limit 2'),
      }),
    );
    expect(() => limiter.acquire('b', 'high')).not.toThrow();
    held.push(limiter.acquire('a', 'normal'));
    held[0]!();
    expect(() => limiter.acquire('a', 'high')).not.toThrow();
  });
});
