import { Placement } from '@hexedge/placement';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApp, KeyRing, MemoryKeyStore, RateLimiter } from '../src/index.ts';
import { body, fakeNode, fakeNodes, KEY, register } from './fake-nodes.ts';

describe('API keys, scopes, rate limits and quotas', () => {
  let now = 1_800_000_000_000;
  let app: ReturnType<typeof createGatewayApp>['app'];
  let store: MemoryKeyStore;
  const call = (path: string, key: string, init: RequestInit = {}) =>
    app.request(path, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
  const newKey = async (spec: Record<string, unknown>) => {
    const res = await call('/v1/keys', KEY, { method: 'POST', body: JSON.stringify(spec) });
    expect(res.status).toBe(201);
    return (await res.json()) as { key: string; id: string };
  };

  beforeEach(async () => {
    now = 1_800_000_000_000;
    store = new MemoryKeyStore();
    const keys = new KeyRing({ store, now: () => now });
    await keys.adopt(KEY, { name: 'admin', role: 'admin' });
    const placement = new Placement({ heartbeatIntervalMs: 60_000 });
    const node = await fakeNode('http://n.test');
    await register(placement, node, 52.3, 4.8);
    app = createGatewayApp({ placement, keys, limiter: new RateLimiter({ now: () => now }), nodeClient: fakeNodes([node]) }).app;
  });

  it('creates a key shown once, stores only its hash, and lists it without the hash', async () => {
    const created = await newKey({ name: 'my app' });
    expect(created.key).toMatch(/^hx_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(store.list())).not.toContain(created.key);
    const list = (await (await call('/v1/keys', KEY)).json()) as { keys: Record<string, unknown>[] };
    expect(list.keys.find((k) => k.id === created.id)).toMatchObject({ name: 'my app', role: 'app' });
    expect(JSON.stringify(list)).not.toContain('hash');
    expect((await call('/v1/infer', created.key, { method: 'POST', body: body() })).status).toBe(200);
  });

  it('refuses key management to app keys, and revoked or expired keys everywhere', async () => {
    const app1 = await newKey({ name: 'a' });
    expect((await call('/v1/keys', app1.key)).status).toBe(403);
    await call(`/v1/keys/${app1.id}`, KEY, { method: 'DELETE' });
    const revoked = await call('/v1/infer', app1.key, { method: 'POST', body: body() });
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as { error: { message: string } }).error.message).toMatch(/revoked/);
    const short = await newKey({ name: 'b', expiresInMs: 1000 });
    now += 1001;
    const expired = await call('/v1/infer', short.key, { method: 'POST', body: body() });
    expect(((await expired.json()) as { error: { message: string } }).error.message).toMatch(/expired/);
  });

  it('keeps a scoped key to its models (403) and validates new-key requests (400)', async () => {
    const scoped = await newKey({ name: 's', models: ['other'] });
    const res = await call('/v1/infer', scoped.key, { method: 'POST', body: body() });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/may not use model 'm'/);
    const bad = await call('/v1/keys', KEY, { method: 'POST', body: JSON.stringify({ name: 'x', burst: -1 }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/burst/);
  });

  it('rate-limits with 429, Retry-After and RateLimit headers, and refills over time', async () => {
    const k = await newKey({ name: 'r', ratePerSecond: 1, burst: 2 });
    const first = await call('/v1/infer', k.key, { method: 'POST', body: body() });
    expect(first.headers.get('RateLimit-Remaining')).toBe('1');
    await call('/v1/infer', k.key, { method: 'POST', body: body() });
    const limited = await call('/v1/infer', k.key, { method: 'POST', body: body() });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('Retry-After')).toBe('1');
    expect(limited.headers.get('RateLimit-Remaining')).toBe('0');
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    now += 1000;
    expect((await call('/v1/infer', k.key, { method: 'POST', body: body() })).status).toBe(200);
  });

  it('enforces a daily quota until midnight UTC and reports usage', async () => {
    const k = await newKey({ name: 'q', dailyQuota: 2 });
    await call('/v1/infer', k.key, { method: 'POST', body: body() });
    await call('/v1/infer', k.key, { method: 'POST', body: body({ model: 'nope' }) });
    const over = await call('/v1/infer', k.key, { method: 'POST', body: body() });
    expect(over.status).toBe(429);
    expect(((await over.json()) as { error: { message: string } }).error.message).toMatch(/daily quota of 2/);
    const report = (await (await call('/v1/usage', k.key)).json()) as { key: { usedToday: number }; requests: number; errors: Record<string, number> };
    expect(report.key.usedToday).toBe(2);
    expect(report.requests).toBe(2);
    expect(report.errors).toEqual({ MODEL_NOT_FOUND: 1 });
    now += 86_400_000;
    expect((await call('/v1/infer', k.key, { method: 'POST', body: body() })).status).toBe(200);
  });
});
