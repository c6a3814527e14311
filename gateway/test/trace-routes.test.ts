import { Placement } from '@hexedge/placement';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApp, KeyRing, MemoryKeyStore } from '../src/index.ts';
import { body, fakeNode, fakeNodes, KEY, register } from './fake-nodes.ts';

describe('GET /v1/traces/{requestId}', () => {
  let app: ReturnType<typeof createGatewayApp>['app'];
  let alice: string;
  let bob: string;
  const call = (path: string, key: string, init: RequestInit = {}) =>
    app.request(path, {
      ...init,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
    });
  const hopsOf = async (res: Response) =>
    ((await res.json()) as { traces: { hops: { hop: string }[] }[] }).traces.map((t) =>
      t.hops.map((h) => h.hop),
    );

  beforeEach(async () => {
    const placement = new Placement({ heartbeatIntervalMs: 60_000 });
    const node = await fakeNode('http://n.test');
    await register(placement, node, 52.3, 4.8);
    const keys = new KeyRing({ store: new MemoryKeyStore() });
    await keys.adopt(KEY, { name: 'admin', role: 'admin' });
    alice = (await keys.create({ name: 'alice' })).key;
    bob = (await keys.create({ name: 'bob' })).key;
    app = createGatewayApp({ placement, keys, nodeClient: fakeNodes([node]) }).app;
  });

  it("shows a key its own request's hops, never another key's (404 alike); the admin sees both", async () => {
    expect((await call('/v1/infer', alice, { method: 'POST', body: body({ id: 'same-id' }) })).status).toBe(
      200,
    );
    expect(
      (
        await call('/v1/infer', bob, {
          method: 'POST',
          body: body({ id: 'same-id', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [2] }] }),
        })
      ).status,
    ).toBe(200);
    const mine = await call('/v1/traces/same-id', alice);
    expect(mine.status).toBe(200);
    expect((await hopsOf(mine))[0]).toEqual(
      expect.arrayContaining(['gateway', 'placement', 'node', 'receipt-check']),
    );
    expect((await call('/v1/traces/nobody', alice)).status).toBe(404);
    const admin = await call('/v1/traces/same-id', KEY);
    expect((await hopsOf(admin)).length).toBe(2);
    expect((await call('/v1/traces/same-id', 'hx_not_a_key')).status).toBe(401);
  });

  it('keeps the first answer’s hops when a retry of the same id is replayed', async () => {
    await call('/v1/infer', alice, { method: 'POST', body: body({ id: 'retried' }) });
    const replay = await call('/v1/infer', alice, { method: 'POST', body: body({ id: 'retried' }) });
    expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    expect((await hopsOf(await call('/v1/traces/retried', alice)))[0]).toContain('node');
  });
});
