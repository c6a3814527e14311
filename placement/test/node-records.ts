import { latLngToH3Cell, type LatLng, type NodeModel } from '@hexedge/protocol';
import { NODE_CELL_RESOLUTION, type NodeRecord } from '../src/node-record.ts';

/**
 * A record as a registry stores it, placed without signatures (restored from a store, or adopted):
 * registered, issued and last heard at `atMs` unless `lastHeartbeatAtMs` says otherwise, a 4-core CPU
 * node unless `hardware` says otherwise, location verified unless `locationVerified` is false.
 * `regions` is empty: the registry derives it from the location when it restores a record.
 */
export function adoptedRecord(o: {
  id: string;
  at: LatLng;
  atMs: number;
  models?: NodeModel[];
  lastHeartbeatAtMs?: number;
  hardware?: Partial<NodeRecord['hardware']>;
  locationVerified?: boolean;
}): NodeRecord {
  const { id, at, atMs } = o;
  return {
    id,
    url: `http://${id}.test`,
    location: at,
    cell: latLngToH3Cell(at, NODE_CELL_RESOLUTION),
    hardware: { cpuCores: 4, memoryMb: 4096, executionProviders: ['cpu'], ...o.hardware },
    models: o.models ?? [],
    registeredAtMs: atMs,
    lastRegistrationIssuedAtMs: atMs,
    lastHeartbeatAtMs: o.lastHeartbeatAtMs ?? atMs,
    lastSeq: 0,
    draining: false,
    pricePerRequest: 0,
    locationVerified: o.locationVerified ?? true,
    locationChangedAtMs: null,
    regions: [],
  };
}
