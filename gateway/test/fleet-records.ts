import type { NodeRecord } from '@hexedge/placement';
import { latLngToH3Cell, type LatLng } from '@hexedge/protocol';

/**
 * Node records for the map tests (network-map.test.ts, network-hex-cap, network-hexes.scale), adopted
 * straight into placement's registry: thousands of nodes without signing a registration for each.
 */

/** Node `i`'s id: 43 characters, like an Ed25519 key in base64url, distinct per `i`. */
export const fleetNodeId = (i: number): string => i.toString(36).padStart(42, 'A') + 'A';

/** Node `i` at `at`: location verified, CPU only, no models, last heard `silentMs` before `nowMs`. */
export function fleetRecord(o: {
  i: number;
  at: LatLng;
  nowMs: number;
  silentMs?: number;
  draining?: boolean;
}): NodeRecord {
  const { i, at, nowMs } = o;
  return {
    id: fleetNodeId(i),
    url: `http://n${i}.test`,
    location: at,
    cell: latLngToH3Cell(at, 9),
    hardware: { cpuCores: 4, memoryMb: 4096, executionProviders: ['cpu'] },
    models: [],
    registeredAtMs: nowMs,
    lastRegistrationIssuedAtMs: nowMs,
    lastHeartbeatAtMs: nowMs - (o.silentMs ?? 0),
    lastSeq: 0,
    draining: o.draining ?? false,
    pricePerRequest: 0,
    locationVerified: true,
    locationChangedAtMs: null,
    regions: [],
  };
}
