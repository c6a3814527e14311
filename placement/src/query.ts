import {
  h3CellToLatLng,
  HexEdgeError,
  MAX_NEAREST_K,
  parseWith,
  placementPolicySchema,
  toH3Cell,
  toLatLng,
  type LatLng,
  type PlacementPolicy,
} from '@hexedge/protocol';
import { resolveRegion } from './jurisdiction.ts';

/** A query location: a coordinate pair or an H3 cell (its centre is used). */
export type QueryLocation = LatLng | { cell: string };

/** Checks a query's location, naming the bad value; a cell stands for its centre. */
export function toQueryLatLng(location: QueryLocation): LatLng {
  if (location !== null && typeof location === 'object' && 'cell' in location) {
    return h3CellToLatLng(toH3Cell(location.cell, 'location.cell'));
  }
  return toLatLng((location ?? {}) as { lat: unknown; lng: unknown }, 'location');
}

export function checkK(k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > MAX_NEAREST_K) {
    throw new HexEdgeError('INVALID_REQUEST', `k must be an integer in [1, ${MAX_NEAREST_K}], got ${String(k)}`);
  }
  return k;
}

export interface CheckedPolicy extends PlacementPolicy {
  prefer: NonNullable<PlacementPolicy['prefer']>;
  /** Canonical region id (`eu` → `EU`). */
  regionId?: string;
}

const DEFAULT_POLICY: CheckedPolicy = { prefer: 'latency' };

/** Validates a request's policy (also when the caller skipped the schema) and resolves its region. */
export function checkPolicy(policy: PlacementPolicy | undefined): CheckedPolicy {
  if (policy === undefined) return DEFAULT_POLICY;
  const parsed = parseWith(placementPolicySchema, policy, { what: 'policy' });
  const checked: CheckedPolicy = { ...parsed, prefer: parsed.prefer ?? 'latency' };
  if (parsed.region !== undefined) checked.regionId = resolveRegion(parsed.region);
  return checked;
}
