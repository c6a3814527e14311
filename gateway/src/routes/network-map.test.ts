import { DEMAND_WINDOW_MS, Placement } from '@hexedge/placement';
import fc from 'fast-check';
import { cellToBoundary, cellToLatLng, cellToParent, getPentagons, getResolution, latLngToCell } from 'h3-js';
import { describe, expect, it } from 'vitest';
import { quantile, RequestLog } from '../events/request-log.ts';
import { PUBLIC_EVENT_RES } from './dashboard-keys.ts';
import { NetworkMap } from './network-map.ts';
import { fleetRecord } from '../../test/fleet-records.ts';

const NOW_MS = 1_700_000_000_000;
const HEARTBEAT_MS = 60_000;

/** The map as the routes built it before NetworkMap (a walk over every node and request per call). */
function referenceHexes(options: { placement: Placement; requests: RequestLog; res: number; nowMs: number }) {
  const { placement, requests, res } = options;
  const cells = new Map<
    string,
    {
      nodes: number;
      healthy: number;
      trust: number[];
      probation: number;
      demand: number;
      latencies: number[];
    }
  >();
  const at = (cell: string) => {
    let acc = cells.get(cell);
    if (!acc)
      cells.set(cell, (acc = { nodes: 0, healthy: 0, trust: [], probation: 0, demand: 0, latencies: [] }));
    return acc;
  };
  for (const node of placement.registry.values()) {
    const acc = at(latLngToCell(node.location.lat, node.location.lng, res));
    acc.nodes++;
    if (placement.registry.statusOf(node) === 'healthy') acc.healthy++;
    const trust = placement.getTrust(node.id);
    if (trust.probation) acc.probation++;
    else acc.trust.push(trust.score);
  }
  const requestRes = Math.min(res, PUBLIC_EVENT_RES);
  const byRequestCell = new Map<string, { demand: number; latencies: number[] }>();
  for (const o of requests.observations(options.nowMs - DEMAND_WINDOW_MS)) {
    if (!o.location) continue;
    const cell = latLngToCell(o.location.lat, o.location.lng, requestRes);
    let acc = byRequestCell.get(cell);
    if (!acc) byRequestCell.set(cell, (acc = { demand: 0, latencies: [] }));
    acc.demand++;
    if (o.ok) acc.latencies.push(o.totalMs);
  }
  if (requestRes === res) {
    for (const [cell, r] of byRequestCell) Object.assign(at(cell), r);
  } else {
    for (const [cell, acc] of cells) {
      const area = byRequestCell.get(cellToParent(cell, requestRes));
      if (area) Object.assign(acc, area);
    }
  }
  return [...cells].map(([cell, a]) => {
    const [lat, lng] = cellToLatLng(cell);
    return {
      cell,
      lat,
      lng,
      nodes: a.nodes,
      healthy: a.healthy,
      coverage: a.healthy > 0 ? 1 : 0,
      meanTrust: a.trust.length
        ? Math.round((a.trust.reduce((s, t) => s + t, 0) / a.trust.length) * 1000) / 1000
        : null,
      probation: a.probation,
      demand: a.demand,
      p50LatencyMs: quantile(a.latencies, 0.5),
      requestRes,
    };
  });
}

const record = (i: number, at: { lat: number; lng: number }, silentMs: number, draining: boolean) =>
  fleetRecord({ i, at, nowMs: NOW_MS, silentMs, draining });

/** Wraps longitude into [-180, 180) and keeps latitude off the poles (a hub or nudge may step past). */
const wrap = (p: { lat: number; lng: number }) => ({
  lat: Math.max(-89.9, Math.min(89.9, p.lat)),
  lng: ((((p.lng + 180) % 360) + 360) % 360) - 180,
});

/** Places that are hard for a hex lookup: anywhere, around a few hubs, on a cell's corners, on pentagons. */
const place = fc
  .oneof(
    fc.record({
      lat: fc.double({ min: -89.9, max: 89.9, noNaN: true }),
      lng: fc.double({ min: -180, max: 179.999, noNaN: true }),
    }),
    fc
      .record({
        hub: fc.constantFrom({ lat: 52.37, lng: 4.9 }, { lat: 0.1, lng: 179.95 }, { lat: -33.9, lng: 151.2 }),
        dLat: fc.double({ min: -1, max: 1, noNaN: true }),
        dLng: fc.double({ min: -1, max: 1, noNaN: true }),
      })
      .map(({ hub, dLat, dLng }) => ({ lat: hub.lat + dLat, lng: hub.lng + dLng })),
    fc
      .record({
        res: fc.integer({ min: 0, max: 9 }),
        lat: fc.double({ min: -80, max: 80, noNaN: true }),
        lng: fc.double({ min: -179, max: 179, noNaN: true }),
        vertex: fc.nat(9),
        nudge: fc.double({ min: -1e-6, max: 1e-6, noNaN: true }),
      })
      .map(({ res, lat, lng, vertex, nudge }) => {
        const boundary = cellToBoundary(latLngToCell(lat, lng, res));
        const [vLat, vLng] = boundary[vertex % boundary.length]!;
        return { lat: vLat + nudge, lng: vLng - nudge };
      }),
    fc
      .record({
        res: fc.integer({ min: 0, max: 9 }),
        which: fc.nat(11),
        dLat: fc.double({ min: -0.01, max: 0.01, noNaN: true }),
      })
      .map(({ res, which, dLat }) => {
        const [lat, lng] = cellToLatLng(getPentagons(res)[which]!);
        return { lat: lat + dLat, lng };
      }),
  )
  .map(wrap);

const fleet = fc.array(
  fc.record({
    at: place,
    silentMs: fc.constantFrom(0, 2 * HEARTBEAT_MS, 4 * HEARTBEAT_MS),
    draining: fc.boolean(),
    trust: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  }),
  { maxLength: 40 },
);

const seen = fc.array(
  fc.record({
    at: fc.option(place, { nil: undefined }),
    ok: fc.boolean(),
    totalMs: fc.nat(5_000),
    ageMs: fc.nat(2 * DEMAND_WINDOW_MS),
  }),
  { maxLength: 60 },
);

describe('NetworkMap', () => {
  it('builds the same map as a walk over every node and request, and answers each hex as its row and a scan would', () => {
    fc.assert(
      fc.property(fleet, seen, fc.integer({ min: 0, max: 9 }), (nodes, observed, res) => {
        const placement = new Placement({ heartbeatIntervalMs: HEARTBEAT_MS, now: () => NOW_MS });
        nodes.forEach((n, i) => {
          placement.registry.adopt(record(i, n.at, n.silentMs, n.draining));
          if (n.trust !== undefined) placement.setTrust(record(i, n.at, 0, false).id, n.trust);
        });
        const requests = new RequestLog();
        for (const o of observed)
          requests.record({
            atMs: NOW_MS - o.ageMs,
            keyId: 'k',
            model: 'm',
            ok: o.ok,
            totalMs: o.totalMs,
            ...(o.at ? { location: o.at } : {}),
          });
        const map = new NetworkMap({ placement, requests, now: () => NOW_MS });
        const want = referenceHexes({ placement, requests, res, nowMs: NOW_MS });
        expect(map.hexes(res)).toEqual(want);

        // Every row's cell, plus the cells of all nodes and requests at every resolution (many without a row).
        const cells = new Set(want.map((r) => r.cell));
        for (const p of [...nodes.map((n) => n.at), ...observed.flatMap((o) => (o.at ? [o.at] : []))])
          for (let r = 0; r <= 9; r++) cells.add(latLngToCell(p.lat, p.lng, r));
        const all = [...placement.registry.values()];
        for (const cell of cells) {
          const cellRes = getResolution(cell);
          const inCell = map.nodesIn(cell, { limit: Infinity });
          expect(inCell.map((n) => n.id).sort(), cell).toEqual(
            all
              .filter((n) => latLngToCell(n.location.lat, n.location.lng, cellRes) === cell)
              .map((n) => n.id)
              .sort(),
          );
          const row = referenceHexes({ placement, requests, res: cellRes, nowMs: NOW_MS }).find(
            (h) => h.cell === cell,
          );
          expect(map.cellRequests({ cell, hasNodes: inCell.length > 0 }), cell).toEqual({
            demand: row?.demand ?? 0,
            p50LatencyMs: row?.p50LatencyMs ?? null,
          });
        }
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  it('rebuilds once the cache period is over, and when the clock steps back', () => {
    let nowMs = NOW_MS;
    const placement = new Placement({ heartbeatIntervalMs: HEARTBEAT_MS, now: () => nowMs });
    const map = new NetworkMap({ placement, requests: new RequestLog(), now: () => nowMs });
    expect(map.hexes(4)).toEqual([]);
    placement.registry.adopt(record(1, { lat: 52.37, lng: 4.9 }, 0, false));
    nowMs += 999;
    expect(map.hexes(4)).toEqual([]);
    nowMs += 1;
    expect(map.hexes(4).map((h) => h.nodes)).toEqual([1]);
    placement.registry.adopt(record(2, { lat: 52.37, lng: 4.9 }, 0, false));
    nowMs -= 5_000;
    expect(map.hexes(4).map((h) => h.nodes)).toEqual([2]);
  });
});
