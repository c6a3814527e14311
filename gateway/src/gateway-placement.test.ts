import { MemoryNodeStore, Placement, type NodeRecord } from '@hexedge/placement';
import { latLngToH3Cell, type LatLng } from '@hexedge/protocol';
import { describe, expect, it, vi } from 'vitest';
import { localPlacement } from './gateway-placement.ts';

const NOW = 1_750_000_000_000;
const HELD = 'a'.repeat(64);
const RARE = 'b'.repeat(64);

function record(id: string, at: LatLng, contentIds: string[]): NodeRecord {
  return {
    id,
    url: `http://${id}.test`,
    location: at,
    cell: latLngToH3Cell(at, 9),
    hardware: { cpuCores: 4, memoryMb: 4096, executionProviders: ['cpu'] },
    models: contentIds.map((contentId, i) => ({ name: `m${i}`, version: '1', contentId, ready: true })),
    registeredAtMs: NOW,
    lastRegistrationIssuedAtMs: NOW,
    lastHeartbeatAtMs: NOW,
    lastSeq: 0,
    draining: false,
    pricePerRequest: 0,
    locationVerified: false,
    locationChangedAtMs: null,
    regions: [],
  };
}

describe('localPlacement: the public peers lookup (GET /v1/artifacts/{contentId}/peers)', () => {
  // Anyone may ask for any content id. Matched by a filter on the nearest search, an id nobody
  // holds (or k above its holder count) walked all 20 000 nodes per request; now only its holders.
  const store = new MemoryNodeStore();
  for (let i = 0; i < 20_000; i++) {
    const at = { lat: 40 + (i % 200) / 10, lng: -10 + Math.floor(i / 200) / 2.5 };
    store.nodes.set(`n${i}`, record(`n${i}`, at, i % 5000 === 0 ? [HELD, RARE] : [HELD]));
  }
  const placement = new Placement({ heartbeatIntervalMs: 10_000, now: () => NOW, store });
  const gateway = localPlacement(placement);

  it('looks at no node for an artifact nobody holds and at its holders only for a rare one', async () => {
    const looked = vi.spyOn(placement.registry, 'statusOf');
    expect(
      await gateway.nearest({ location: { lat: 50, lng: 5 }, k: 10, contentId: 'f'.repeat(64) }),
    ).toEqual([]);
    expect(looked).toHaveBeenCalledTimes(0);
    const peers = await gateway.nearest({ location: { lat: 50, lng: 5 }, k: 10, contentId: RARE });
    expect(peers.map((p) => p.node.id).sort()).toEqual(['n0', 'n10000', 'n15000', 'n5000']);
    expect(looked.mock.calls.length).toBeLessThanOrEqual(4);
    looked.mockRestore();
  });

  it('a widely held artifact still comes from the spatial index, nearest first', async () => {
    const peers = await gateway.nearest({ location: { lat: 40, lng: -10 }, k: 3, contentId: HELD });
    expect(peers.map((p) => p.node.id)).toEqual(['n0', 'n1', 'n2']);
  });
});
