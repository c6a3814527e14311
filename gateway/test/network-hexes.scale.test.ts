import { Placement } from '@hexedge/placement';
import { cellToLatLng, latLngToCell } from 'h3-js';
import { describe, expect, it, vi } from 'vitest';
import { RequestLog } from '../src/events/request-log.ts';
import { createGatewayApp, EventBus } from '../src/index.ts';
import { fakeNodes, keyRing } from './fake-nodes.ts';
import { fleetRecord } from './fleet-records.ts';

// The public map routes against a fleet: what one caller's GET costs, counted in registry reads.
const FLEET = 4_000;
const NOW_MS = 1_700_000_000_000;

const record = (i: number, at: { lat: number; lng: number }) => fleetRecord({ i, at, nowMs: NOW_MS });

async function fleetApp() {
  let nowMs = NOW_MS;
  const placement = new Placement({ heartbeatIntervalMs: 60_000, now: () => nowMs });
  // A deterministic spread over the inhabited latitudes, plus one lone node far from the rest.
  for (let i = 0; i < FLEET; i++) {
    placement.registry.adopt(
      record(i, { lat: -50 + ((i * 37) % 110) + (i % 7) / 10, lng: -170 + ((i * 53) % 340) }),
    );
  }
  const lone = { lat: -77.85, lng: 166.67 }; // McMurdo
  placement.registry.adopt(record(FLEET, lone));
  const requests = new RequestLog();
  for (let i = 0; i < 10_000; i++) {
    requests.record({
      atMs: NOW_MS - 1000 + (i % 1000),
      keyId: 'k',
      model: 'm',
      ok: true,
      totalMs: i % 97,
      location: { lat: -60 + (i % 120), lng: -180 + ((i * 7) % 360) },
    });
  }
  const app = createGatewayApp({
    placement,
    keys: await keyRing(),
    nodeClient: fakeNodes([]),
    dashboard: { events: new EventBus(), requests, now: () => nowMs },
  }).app;
  return { app, placement, requests, lone, advance: (ms: number) => (nowMs += ms) };
}

describe('public map routes at fleet scale', () => {
  it('answers one hex from that hex: a lone node’s cell reads a handful of records, not the fleet', async () => {
    const { app, placement, requests, lone } = await fleetApp();
    const statusOf = vi.spyOn(placement.registry, 'statusOf');
    const values = vi.spyOn(placement.registry, 'values');
    const observations = vi.spyOn(requests, 'observations');
    for (const res of [9, 5, 2]) {
      const cell = latLngToCell(lone.lat, lone.lng, res);
      const detail = (await (await app.request(`/v1/network/hexes/${cell}`)).json()) as {
        nodes: { id: string }[];
      };
      expect(
        detail.nodes.map((n) => n.id),
        `res ${res}`,
      ).toEqual([record(FLEET, lone).id]);
    }
    // Before: every node's status per request (3 × 4 001 × 2) and the registry walked twice per request.
    expect(statusOf.mock.calls.length).toBeLessThanOrEqual(3 * 2);
    expect(values).not.toHaveBeenCalled();
    // The recent requests are counted per area once per cache period, not per request.
    expect(observations.mock.calls.length).toBeLessThanOrEqual(2);
  });

  it('serves the whole map from one build per resolution per second, however many callers ask', async () => {
    const { app, placement, advance } = await fleetApp();
    const statusOf = vi.spyOn(placement.registry, 'statusOf');
    const first = await (await app.request('/v1/network/hexes?res=3&metric=density')).json();
    expect(statusOf).toHaveBeenCalledTimes(FLEET + 1);
    for (let i = 0; i < 50; i++) {
      const again = await (
        await app.request(`/v1/network/hexes?res=3&metric=${i % 2 ? 'demand' : 'density'}`)
      ).json();
      if (i === 0)
        expect((again as { cells: unknown[] }).cells.length).toBe(
          (first as { cells: unknown[] }).cells.length,
        );
    }
    expect(statusOf).toHaveBeenCalledTimes(FLEET + 1);
    advance(1_000);
    await app.request('/v1/network/hexes?res=3&metric=density');
    expect(statusOf).toHaveBeenCalledTimes(2 * (FLEET + 1));
  });

  it('answers a cell exactly as a scan of every node would, at every resolution (cells near and across borders)', async () => {
    const { app, placement } = await fleetApp();
    const all = [...placement.registry.values()];
    for (let res = 0; res <= 9; res++) {
      const idsByCell = new Map<string, string[]>();
      for (const n of all) {
        const cell = latLngToCell(n.location.lat, n.location.lng, res);
        const ids = idsByCell.get(cell);
        if (ids) ids.push(n.id);
        else idsByCell.set(cell, [n.id]);
      }
      // Cells of some nodes, and cells next to them (often empty, their nodes just across a border).
      const cells = new Set<string>();
      for (let i = 0; i < all.length; i += 131) {
        const { lat, lng } = all[i]!.location;
        cells.add(latLngToCell(lat, lng, res));
        const [nearLat, nearLng] = cellToLatLng(latLngToCell(lat + 0.3, lng - 0.3, res));
        cells.add(latLngToCell(nearLat, nearLng, res));
      }
      for (const cell of cells) {
        const got = (
          (await (await app.request(`/v1/network/hexes/${cell}`)).json()) as { nodes: { id: string }[] }
        ).nodes
          .map((n) => n.id)
          .sort();
        expect(got, `${cell} (res ${res})`).toEqual((idsByCell.get(cell) ?? []).sort());
      }
    }
  }, 60_000);
});
