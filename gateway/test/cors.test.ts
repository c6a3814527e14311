import { generateNodeKeyPair } from '@hexedge/protocol';
import { Placement } from '@hexedge/placement';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGatewayApp, EventBus } from '../src/index.ts';
import { body, fakeNodes, KEY, keyRing, register, type FakeNode } from './fake-nodes.ts';

const EXPOSED =
  'X-Request-Id,X-HexEdge-Cache,traceparent,Retry-After,RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset';

/** Browsers on any origin call the API: every answer, errors and streams included, carries the CORS headers. */
describe('CORS on every answer', () => {
  let app: ReturnType<typeof createGatewayApp>['app'];
  const origin = { origin: 'https://app.example' };

  beforeAll(async () => {
    const placement = new Placement({ heartbeatIntervalMs: 60_000 });
    const near: FakeNode = { keys: await generateNodeKeyPair(), url: 'http://near.test', mode: 'ok' };
    await register(placement, near, 52.3, 4.8);
    app = createGatewayApp({
      placement,
      keys: await keyRing(),
      nodeClient: fakeNodes([near]),
      dashboard: { events: new EventBus(), staticAssets: async () => undefined },
    }).app;
  });

  const expectCors = (res: Response) => {
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toBe(EXPOSED);
  };

  it('an answered inference keeps its own headers and gets the CORS ones', async () => {
    const res = await app.request('/v1/infer', {
      method: 'POST',
      body: body(),
      headers: { ...origin, authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expectCors(res);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-request-id')).toMatch(/.+/);
    expect((await res.json()) as { outputs?: unknown }).toHaveProperty('outputs');
  });

  it('errors (401, 404, 400) carry them too', async () => {
    const unauthorised = await app.request('/v1/infer', { method: 'POST', body: body(), headers: origin });
    expect(unauthorised.status).toBe(401);
    expectCors(unauthorised);
    const missing = await app.request('/v1/nothing-here', { headers: origin });
    expect(missing.status).toBe(404);
    expectCors(missing);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const bad = await app.request('/v1/infer', {
      method: 'POST',
      body: '{',
      headers: { ...origin, authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expectCors(bad);
  });

  it('an event stream carries them', async () => {
    const res = await app.request('/v1/events/network', { headers: origin });
    expect(res.headers.get('content-type') ?? '').toMatch(/text\/event-stream/);
    expectCors(res);
    await res.body?.cancel();
  });

  it('a preflight is answered 204 with the allowed methods and headers', async () => {
    const res = await app.request('/v1/infer', {
      method: 'OPTIONS',
      headers: {
        ...origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'Authorization,Content-Type,Cache-Control,traceparent,X-HexEdge-Priority,X-HexEdge-Deadline-Ms',
    );
  });
});
