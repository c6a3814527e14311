import { Placement } from '@hexedge/placement';
import { greatCircleDistanceKm } from '@hexedge/protocol';
import { cellToLatLng, getResolution, latLngToCell } from 'h3-js';
import { describe, expect, it, vi } from 'vitest';
import { RequestLog } from '../src/events/request-log.ts';
import { createGatewayApp, EventBus } from '../src/index.ts';
import { MAX_HEX_DETAIL_NODES } from '../src/routes/network-map.ts';
import { fakeNodes, keyRing } from './fake-nodes.ts';
import { fleetRecord } from './fleet-records.ts';

// One hex's answer lists its nodes: a continent-sized (res 0/1) hex must not list a continent's.
const NOW_MS = 1_700_000_000_000;
const CENTRE = { lat: 48.85, lng: 2.35 };

const record = (i: number, at: { lat: number; lng: number }) => fleetRecord({ i, at, nowMs: NOW_MS });

/** `count` nodes spread within ~`spreadDeg` of a point. */
async function appWith(count: number, spreadDeg: number) {
  const placement = new Placement({ heartbeatIntervalMs: 60_000, now: () => NOW_MS });
  for (let i = 0; i < count; i++) {
    const a = (i * 2.399963) % (2 * Math.PI); // golden angle: an even disc
    const r = spreadDeg * Math.sqrt((i + 0.5) / count);
    placement.registry.adopt(
      record(i, { lat: CENTRE.lat + r * Math.sin(a), lng: CENTRE.lng + r * Math.cos(a) }),
    );
  }
  const app = createGatewayApp({
    placement,
    keys: await keyRing(),
    nodeClient: fakeNodes([]),
    dashboard: { events: new EventBus(), requests: new RequestLog(), now: () => NOW_MS },
  }).app;
  return { app, placement };
}

interface Detail {
  cell: string;
  truncated: boolean;
  nodes: { id: string; lat: number; lng: number }[];
}

describe('one hex’s answer', () => {
  it(`lists at most ${MAX_HEX_DETAIL_NODES} nodes of a res-0/1 hex, nearest its centre, and says it is truncated`, async () => {
    const { app, placement } = await appWith(3_000, 3);
    const statusOf = vi.spyOn(placement.registry, 'statusOf');
    const trust = vi.spyOn(placement, 'getTrust');
    for (const res of [0, 1]) {
      const cell = latLngToCell(CENTRE.lat, CENTRE.lng, res);
      const res0 = await app.request(`/v1/network/hexes/${cell}`);
      expect(res0.status).toBe(200);
      const detail = (await res0.json()) as Detail;
      expect(detail.truncated).toBe(true);
      expect(detail.nodes).toHaveLength(MAX_HEX_DETAIL_NODES);
      for (const n of detail.nodes) expect(latLngToCell(n.lat, n.lng, getResolution(cell))).toBe(cell);
      // Nearest the hex's centre first: the rows shown are the hex's middle, not an arbitrary part.
      const [cLat, cLng] = cellToLatLng(cell);
      const d = detail.nodes.map((n) => greatCircleDistanceKm({ lat: cLat, lng: cLng }, n));
      for (let i = 1; i < d.length; i++) expect(d[i]!).toBeGreaterThanOrEqual(d[i - 1]! - 1e-6);
      // The same rows a walk over the fleet would pick: the hex's nearest nodes to its centre.
      const walk = [...placement.registry.values()]
        .filter((n) => latLngToCell(n.location.lat, n.location.lng, res) === cell)
        .map((n) => ({ id: n.id, km: greatCircleDistanceKm({ lat: cLat, lng: cLng }, n.location) }))
        .sort((a, b) => a.km - b.km || (a.id < b.id ? -1 : 1));
      expect(walk.length).toBeGreaterThan(MAX_HEX_DETAIL_NODES);
      expect(detail.nodes.map((n) => n.id)).toEqual(walk.slice(0, MAX_HEX_DETAIL_NODES).map((n) => n.id));
    }
    // The rows' own reads are capped too (status and trust once per row shown).
    expect(statusOf.mock.calls.length).toBeLessThanOrEqual(2 * MAX_HEX_DETAIL_NODES);
    expect(trust.mock.calls.length).toBeLessThanOrEqual(2 * MAX_HEX_DETAIL_NODES);
  });

  it('lists every node of a hex holding fewer, untruncated', async () => {
    const { app } = await appWith(40, 0.01);
    const cell = latLngToCell(CENTRE.lat, CENTRE.lng, 5);
    const detail = (await (await app.request(`/v1/network/hexes/${cell}`)).json()) as Detail;
    expect(detail).toMatchObject({ cell, truncated: false });
    expect(detail.nodes).toHaveLength(40);
  });
});
