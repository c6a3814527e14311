import { greatCircleDistanceKm } from '@hexedge/protocol';
import { regionsAt } from '@hexedge/placement';
import { durableShardNetwork, EU_SHARD_CELLS, minDistanceToCellKm, regionShardCells, shardCellOf, shardJurisdiction } from '@hexedge/placement/shards';
import fc from 'fast-check';
import { cellToBoundary, cellToLatLng, getPentagons, gridDisk } from 'h3-js';
import { describe, expect, it } from 'vitest';

const latLng = fc.record({ lat: fc.double({ min: -90, max: 90, noNaN: true }), lng: fc.double({ min: -180, max: 180, noNaN: true }) });

describe('shard geometry', () => {
  it('never overestimates the distance from a query to a point of another shard', () => {
    // Points near cell borders and vertices (where a loose bound would show), pentagons included.
    const cells = [shardCellOf({ lat: 50.11, lng: 8.68 }), shardCellOf({ lat: -17.5, lng: 179.9 }), shardCellOf({ lat: 89.9, lng: 0 }), ...getPentagons(2)];
    const nearBorder = fc.tuple(fc.constantFrom(...cells), fc.nat(6), fc.double({ min: 0.9, max: 1.1, noNaN: true })).map(([cell, v, t]) => {
      const [cLat, cLng] = cellToLatLng(cell);
      const boundary = cellToBoundary(cell);
      const [vLat, vLng] = boundary[v % boundary.length]!;
      let dLng = vLng - cLng;
      if (dLng > 180) dLng -= 360;
      if (dLng < -180) dLng += 360;
      let lng = cLng + dLng * t;
      if (lng > 180) lng -= 360;
      if (lng < -180) lng += 360;
      return { lat: Math.max(-90, Math.min(90, cLat + (vLat - cLat) * t)), lng };
    });
    fc.assert(
      fc.property(fc.oneof(latLng, nearBorder), nearBorder, (q, p) => {
        const cell = shardCellOf(p);
        expect(minDistanceToCellKm(q, cell)).toBeLessThanOrEqual(greatCircleDistanceKm(q, p));
      }),
      { numRuns: 3000 },
    );
  });

  it('is 0 inside the cell and grows with distance outside it', () => {
    const cell = shardCellOf({ lat: 48.85, lng: 2.35 });
    expect(minDistanceToCellKm({ lat: 48.85, lng: 2.35 }, cell)).toBe(0);
    const ring2 = gridDisk(cell, 3).filter((c) => !gridDisk(cell, 2).includes(c));
    for (const far of ring2) expect(minDistanceToCellKm({ lat: cellToLatLng(far)[0], lng: cellToLatLng(far)[1] }, cell)).toBeGreaterThan(150);
  });
});

describe('shard jurisdiction', () => {
  it('keeps the committed EU cell table equal to the border data', () => {
    expect([...regionShardCells('eu')].sort()).toEqual([...EU_SHARD_CELLS]);
  });

  it('maps every EU location to an EU shard', () => {
    fc.assert(
      fc.property(fc.record({ lat: fc.double({ min: 27, max: 71, noNaN: true }), lng: fc.double({ min: -25, max: 35, noNaN: true }) }), (p) => {
        if (regionsAt(p).includes('EU')) expect(shardJurisdiction(shardCellOf(p))).toBe('eu');
      }),
      { numRuns: 3000 },
    );
    for (const p of [{ lat: 28.1, lng: -15.4 }, { lat: -21.1, lng: 55.5 }, { lat: 4.9, lng: -52.3 }, { lat: 35.9, lng: 14.5 }]) expect(shardJurisdiction(shardCellOf(p))).toBe('eu');
    for (const p of [{ lat: 40.7, lng: -74 }, { lat: 35.7, lng: 139.7 }]) expect(shardJurisdiction(shardCellOf(p))).toBeUndefined();
  });

  it('creates EU shards through SHARDS.jurisdiction("eu") when pinning is on', () => {
    const calls: string[] = [];
    const ns = (label: string) => ({ idFromName: (n: string) => `${label}:${n}`, get: (id: never) => (calls.push(id), {}), jurisdiction: () => ns('eu') });
    const net = durableShardNetwork({ shards: ns('global'), directory: ns('dir'), pinJurisdictions: true });
    const paris = shardCellOf({ lat: 48.85, lng: 2.35 });
    const newYork = shardCellOf({ lat: 40.7, lng: -74 });
    net.shard(paris);
    net.shard(newYork);
    expect(calls).toEqual([`eu:${paris}`, `global:${newYork}`]);
    durableShardNetwork({ shards: ns('global'), directory: ns('dir'), pinJurisdictions: false }).shard(paris);
    expect(calls.at(-1)).toBe(`global:${paris}`);
  });
});
