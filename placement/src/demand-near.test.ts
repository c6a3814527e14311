import { cellToChildren, cellToLatLng, getRes0Cells } from 'h3-js';
import * as protocol from '@hexedge/protocol';
import { describe, expect, it, vi } from 'vitest';
import { DemandNear } from './demand-near.ts';
import type { DemandTotal } from './demand.ts';
import { Placement, PLAN_TTL_MS } from './placement.ts';

vi.mock('@hexedge/protocol', async (original) => {
  const real = await original<typeof protocol>();
  return { ...real, h3CellToLatLng: vi.fn(real.h3CellToLatLng) };
});

const T0 = 1_750_000_000_000;
const manifest = (name: string, c: string) =>
  ({ name, version: '1', contentId: c.repeat(64), sizeBytes: 1_000 }) as protocol.ModelManifest;
const catalogue = [manifest('m0', 'a'), manifest('m1', 'b'), manifest('m2', 'c')];
const hardware = { memoryMb: 4096, executionProviders: ['cpu' as const] };

describe('Placement.modelsForJoiningNode (public GET /v1/nodes/desired-models)', () => {
  it('locates each hex with demand once per plan, not every demand row per request', () => {
    let now = T0;
    const placement = new Placement({ heartbeatIntervalMs: 10_000, now: () => now });
    // Three models asked for in every res-2 hex (5 882 hexes, 17 646 rows over the window).
    const cells = getRes0Cells().flatMap((c) => cellToChildren(c, 2));
    for (const [i, cell] of cells.entries()) {
      const [lat, lng] = cellToLatLng(cell);
      for (let m = 0; m <= i % 3; m++) placement.recordDemand({ location: { lat, lng }, model: `m${m}` });
    }
    const located = vi.mocked(protocol.h3CellToLatLng);
    const ask = (lat: number, lng: number) =>
      placement.modelsForJoiningNode({ location: { lat, lng }, hardware, catalogue });
    const first = ask(50, 5);
    located.mockClear();
    for (let i = 0; i < 20; i++) ask(50 + i / 10, 5);
    // Was: every demand row of the window located again per request (17 646 × 20 here).
    expect(located.mock.calls.length).toBeLessThanOrEqual(20 * 100);
    expect(first.map((m) => m.reason).filter((r) => r.includes('requests nearby')).length).toBeGreaterThan(0);
    // A new plan (after PLAN_TTL_MS) takes in newer demand.
    now += PLAN_TTL_MS;
    placement.recordDemand({ location: { lat: 50, lng: 5 }, model: 'm2' });
    expect(ask(50, 5).length).toBeGreaterThan(0);
  });
});

describe('DemandNear', () => {
  it('gives the rows a per-row distance check keeps, in the snapshot order (property)', () => {
    const cells = getRes0Cells().flatMap((c) => cellToChildren(c, 1));
    for (let seed = 0; seed < 30; seed++) {
      let x = seed + 1;
      const next = () => (x = (x * 48271) % 2147483647) / 2147483647;
      const totals: DemandTotal[] = Array.from({ length: 200 }, (_, i) => ({
        cell: cells[Math.floor(next() * cells.length)]!,
        model: `m${i % 4}`,
        version: '',
        count: 200 - i,
      }));
      const at = { lat: next() * 180 - 90, lng: next() * 360 - 180 };
      const reachKm = next() * 5000;
      const expected = totals.filter(
        (t) =>
          protocol.greatCircleDistanceKm(at, protocol.h3CellToLatLng(protocol.toH3Cell(t.cell))) <= reachKm,
      );
      expect(new DemandNear(totals).near(at, reachKm)).toEqual(expected);
    }
  });
});
