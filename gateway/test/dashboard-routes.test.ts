import { generateNodeKeyPair } from '@hexedge/protocol';
import { Placement } from '@hexedge/placement';
import { latLngToCell } from 'h3-js';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApp, EventBus } from '../src/index.ts';
import { body, fakeNodes, KEY, keyRing, register, type FakeNode } from './fake-nodes.ts';

describe('dashboard routes', () => {
  let app: ReturnType<typeof createGatewayApp>['app'];
  let events: EventBus;
  let near: FakeNode;
  const auth = { authorization: `Bearer ${KEY}` };

  beforeEach(async () => {
    const placement = new Placement({ heartbeatIntervalMs: 60_000 });
    near = { keys: await generateNodeKeyPair(), url: 'http://near.test', mode: 'ok' };
    await register(placement, near, 52.3, 4.8);
    events = new EventBus();
    const files: Record<string, string> = {
      'index.html': '<!doctype html><title>x</title>',
      'assets/app-1.js': 'export {}',
    };
    app = createGatewayApp({
      placement,
      keys: await keyRing(),
      nodeClient: fakeNodes([near]),
      dashboard: {
        events,
        staticAssets: async (p) => (p in files ? new TextEncoder().encode(files[p]) : undefined),
      },
    }).app;
  });

  it('aggregates nodes and requests per hex, and lists a hex’s nodes', async () => {
    const post = await app.request('/v1/infer', {
      method: 'POST',
      body: body(),
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(post.status).toBe(200);
    const res = await app.request('/v1/network/hexes?res=4&metric=density');
    const { cells } = (await res.json()) as {
      cells: { cell: string; nodes: number; value: number; demand: number }[];
    };
    const nodeCell = latLngToCell(52.3, 4.8, 4);
    expect(cells.find((c) => c.cell === nodeCell)).toMatchObject({ nodes: 1, value: 1 });
    expect(cells.reduce((s, c) => s + c.demand, 0)).toBe(1);
    const detail = (await (await app.request(`/v1/network/hexes/${nodeCell}`)).json()) as {
      nodes: { id: string; served: { requests: number } }[];
    };
    expect(detail.nodes.map((n) => n.id)).toEqual([near.keys.nodeId]);
    expect(detail.nodes[0]!.served.requests).toBe(1);
    expect(events.recent((e) => e.audience.kind === 'key').map((e) => e.type)).toEqual(['request']);
    expect((await app.request('/v1/network/hexes?res=12')).status).toBe(400);
  });

  it('never places a caller finer than the public event stream (res 4), however fine the map', async () => {
    // A caller 6 km from the only node: at res 7–9 its own cell (~5 km² to ~0.1 km²) must not show up with its request.
    const caller = { lat: 52.354, lng: 4.8 };
    const post = await app.request('/v1/infer', {
      method: 'POST',
      body: body({ location: caller }),
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(post.status).toBe(200);
    for (const res of [7, 8, 9]) {
      const { cells } = (await (await app.request(`/v1/network/hexes?res=${res}&metric=demand`)).json()) as {
        cells: { cell: string; demand: number; requestRes: number }[];
      };
      expect(
        cells.map((c) => c.cell),
        `res ${res}`,
      ).not.toContain(latLngToCell(caller.lat, caller.lng, res));
      expect(cells.every((c) => c.requestRes === 4)).toBe(true);
      const detail = (await (
        await app.request(`/v1/network/hexes/${latLngToCell(caller.lat, caller.lng, res)}`)
      ).json()) as { demand: number };
      expect(detail.demand, `res ${res} detail`).toBe(0);
    }
    // At res 4 the request shows, in its county-sized cell.
    const { cells } = (await (await app.request('/v1/network/hexes?res=4&metric=demand')).json()) as {
      cells: { cell: string; demand: number }[];
    };
    expect(cells.find((c) => c.cell === latLngToCell(caller.lat, caller.lng, 4))?.demand).toBe(1);
  });

  it('serves the built page, refuses path tricks, and takes bridge events only from an admin key', async () => {
    expect((await app.request('/dashboard/')).headers.get('content-type')).toMatch(/text\/html/);
    expect((await app.request('/dashboard/assets/app-1.js')).headers.get('cache-control')).toMatch(
      /immutable/,
    );
    expect((await app.request('/dashboard/..%2Fsecret')).status).toBe(404);
    const event = JSON.stringify({ type: 'fleet.result', data: { fleet: 'demo', devEui: '01' } });
    expect(
      (
        await app.request('/v1/events', {
          method: 'POST',
          body: event,
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await app.request('/v1/events', {
          method: 'POST',
          body: event,
          headers: { ...auth, 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(202);
    const { events: seen } = (await (await app.request('/v1/fleet/events', { headers: auth })).json()) as {
      events: { type: string }[];
    };
    expect(seen.map((e) => e.type)).toEqual(['fleet.result']);
  });
});
