import type { LatLng } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { CITIES, newTestNode, registration, T0 } from '../test/signed-messages.ts';
import { Placement } from './placement.ts';

const east = (p: LatLng, km: number): LatLng => ({
  lat: p.lat,
  lng: p.lng + km / (111.32 * Math.cos((p.lat * Math.PI) / 180)),
});

describe('Placement.nodesWithin', () => {
  it('lists every node in the radius whatever its status, nearest first, and refuses a bad radius', async () => {
    let now = T0;
    const placement = new Placement({ heartbeatIntervalMs: 10_000, now: () => now });
    const add = async (at: LatLng) => {
      const node = await newTestNode();
      await placement.registry.register(await registration(node, { issuedAtMs: now, location: at }));
      return node.id;
    };
    const silent = await add(east(CITIES.amsterdam, 5));
    now += 40_000; // past 3 missed intervals: `silent` is unhealthy, still on the map
    const near = await add(CITIES.amsterdam);
    await add(CITIES.paris);
    expect(placement.registry.statusOf(placement.registry.get(silent)!)).toBe('unhealthy');
    const found = placement.nodesWithin({ location: CITIES.amsterdam, radiusKm: 10 });
    expect(found.map((c) => c.node.id)).toEqual([near, silent]);
    expect(found[1]!.distanceKm).toBeCloseTo(5, 1);
    expect(placement.nodesWithin({ location: CITIES.amsterdam, radiusKm: 0 }).map((c) => c.node.id)).toEqual([
      near,
    ]);
    expect(() => placement.nodesWithin({ location: CITIES.amsterdam, radiusKm: Number.NaN })).toThrow(
      /radiusKm .* got NaN/,
    );
    expect(() => placement.nodesWithin({ location: CITIES.amsterdam, radiusKm: -1 })).toThrow(/got -1/);
  });
});
