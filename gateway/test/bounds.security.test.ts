import { Placement } from '@hexedge/placement';
import { signBody } from '@hexedge/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApp } from '../src/index.ts';
import { NodeMessageLimits } from '../src/routes/node-message-limits.ts';
import { body, fakeNode, fakeNodes, KEY, keyRing, MODEL, register, type FakeNode } from './fake-nodes.ts';

/*
 * Memory and CPU exhaustion through the HTTP API: deadlines, requests in progress, event streams,
 * usage rows, and registration and heartbeat floods — each bounded, refused with a code that says
 * when to come back.
 */
let placement: Placement;
let slow: FakeNode;
let client: ReturnType<typeof fakeNodes>;

beforeEach(async () => {
  placement = new Placement({ heartbeatIntervalMs: 60_000 });
  slow = await fakeNode('http://slow.test', 'slow');
  slow.delayMs = 300;
  await register(placement, slow, 52.37, 4.9);
  client = fakeNodes([slow]);
});

const post = (
  app: ReturnType<typeof createGatewayApp>['app'],
  b: string,
  key = KEY,
  headers: Record<string, string> = {},
) =>
  app.request('/v1/infer', {
    method: 'POST',
    body: b,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
  });

describe('bounds', () => {
  it('refuses a deadline past 60 s, naming it (a caller could park requests for 10 minutes)', async () => {
    const { app } = createGatewayApp({ placement, keys: await keyRing(), nodeClient: client });
    const res = await post(app, body({ policy: { deadlineMs: 600_000 } }));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/deadlineMs.*60000/);
  });

  it('bounds requests in progress per key (429) and overall (503), with Retry-After', async () => {
    const keys = await keyRing();
    const other = (await keys.create({ name: 'other' })).key;
    const { app } = createGatewayApp({
      placement,
      keys,
      nodeClient: client,
      inFlight: { maxPerCaller: 2, maxTotal: 3 },
    });
    const first = [post(app, body()), post(app, body())];
    await new Promise((r) => setTimeout(r, 20));
    const third = await post(app, body());
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    const fourth = post(app, body(), other);
    await new Promise((r) => setTimeout(r, 20));
    const fifth = await post(app, body(), other);
    expect(fifth.status).toBe(503);
    expect(((await fifth.json()) as { error: { code: string } }).error.code).toBe('OVERLOADED');
    expect(fifth.headers.get('retry-after')).toBe('1');
    expect((await Promise.all([...first, fourth])).map((r) => r.status)).toEqual([200, 200, 200]);
    // Slots come back: the same key is served again.
    expect((await post(app, body())).status).toBe(200);
  });

  it('caps open event streams per client and overall (503 with Retry-After), and frees a slot when a stream closes', async () => {
    const { app } = createGatewayApp({
      placement,
      keys: await keyRing(),
      nodeClient: client,
      clientIp: (c) => c.req.header('x-test-ip'),
      dashboard: { eventStreams: { max: 3, perClient: 2 } },
    });
    const open = (ip: string) => app.request('/v1/events/network', { headers: { 'x-test-ip': ip } });
    const a1 = await open('10.0.0.1');
    const a2 = await open('10.0.0.1');
    expect([a1.status, a2.status]).toEqual([200, 200]);
    const a3 = await open('10.0.0.1');
    expect(a3.status).toBe(503);
    expect(a3.headers.get('retry-after')).toBe('5');
    const b1 = await open('10.0.0.2');
    expect(b1.status).toBe(200);
    expect((await open('10.0.0.3')).status).toBe(503);
    await a1.body!.cancel();
    const c1 = await open('10.0.0.3');
    expect(c1.status).toBe(200);
    for (const r of [a2, b1, c1]) await r.body!.cancel();
  });

  it('keeps a bounded number of usage rows per key, however many model names a caller invents', async () => {
    const { app } = createGatewayApp({ placement, keys: await keyRing(), nodeClient: client });
    for (let i = 0; i < 150; i++) await post(app, body({ model: `invented-${i}` }));
    const usage = (await (
      await app.request('/v1/usage', { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as { requests: number; models: unknown[] };
    expect(usage.requests).toBe(150);
    expect(usage.models.length).toBeLessThanOrEqual(64);
  });

  it('rate-limits registrations per client IP before any work, and heartbeats per node only once signed', async () => {
    let now = Date.now();
    const limits = new NodeMessageLimits({
      heartbeatIntervalMs: 60_000,
      now: () => now,
      config: { registrationsPerIp: { perSecond: 1, burst: 5 } },
    });
    const limited = new Placement({ heartbeatIntervalMs: 60_000, admit: limits.admit });
    const { app } = createGatewayApp({
      placement: limited,
      keys: await keyRing(),
      nodeClient: client,
      nodeMessageLimits: limits,
      clientIp: (c) => c.req.header('x-test-ip'),
      nodeUrls: { allowPrivate: false },
    });
    const send = (path: string, message: unknown, ip: string) =>
      app.request(path, {
        method: 'POST',
        body: JSON.stringify(message),
        headers: { 'content-type': 'application/json', 'x-test-ip': ip },
      });
    const statuses = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await send('/v1/nodes/register', { junk: i }, '198.51.100.7')).status);
    expect(statuses.slice(0, 5).every((s) => s === 400)).toBe(true);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    // Another address is not held up by the flood.
    const node = await fakeNode('http://node.test');
    const registration = await signBody(
      'registration',
      {
        nodeId: node.keys.nodeId,
        issuedAtMs: now,
        url: 'http://93.184.216.34:8080',
        location: { lat: 52.37, lng: 4.9 },
        hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu' as const] },
        models: [MODEL],
      },
      node.keys.privateKey,
    );
    expect((await send('/v1/nodes/register', registration, '203.0.113.9')).status).toBe(200);
    // Forged heartbeats in the node's name spend nothing of its allowance …
    let seq = 0;
    const beat = async () =>
      signBody(
        'heartbeat',
        { nodeId: node.keys.nodeId, seq: ++seq, issuedAtMs: now, models: [MODEL] },
        node.keys.privateKey,
      );
    for (let i = 0; i < 20; i++) {
      const forged = { ...(await beat()), signature: 'A'.repeat(86) };
      expect((await send('/v1/nodes/heartbeat', forged, '198.51.100.8')).status).toBe(401);
    }
    // … while its own, far faster than its interval asks, are cut at the per-node bound.
    const own = [];
    for (let i = 0; i < 8; i++)
      own.push((await send('/v1/nodes/heartbeat', await beat(), '203.0.113.9')).status);
    expect(own.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(own.slice(5)).toEqual([429, 429, 429]);
    now += 60_000;
    expect((await send('/v1/nodes/heartbeat', await beat(), '203.0.113.9')).status).toBe(200);
  });
});
