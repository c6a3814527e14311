import type { LatLng } from '@hexedge/protocol';
import { HOLDER_SCAN_FACTOR, nearestAmong } from './model-holders.ts';
import type { NodeIndex, Neighbour } from './node-index.ts';
import type { NodeRecord } from './node-record.ts';

/** A registered node as placement's spatial index holds it. */
export interface IndexedNode {
  id: string;
  lat: number;
  lng: number;
  node: NodeRecord;
}

export type HolderSet = ReadonlySet<string> | undefined | 'all';
/** The smaller of two restrictions every answer must meet (undefined: nobody holds it; 'all': no restriction). */
export const narrower = (a: HolderSet, b: HolderSet): HolderSet =>
  a === undefined || b === undefined
    ? undefined
    : a === 'all'
      ? b
      : b === 'all'
        ? a
        : a.size <= b.size
          ? a
          : b;

/**
 * The spatial index's nearest search, or, when every answer must come from a set of holders that is
 * small next to the index, a direct scan of those holders (same answer; see HOLDER_SCAN_FACTOR).
 * `holders` undefined: nobody holds what is asked for.
 */
export function nearestOf(
  index: NodeIndex<IndexedNode>,
  q: {
    location: LatLng;
    k: number;
    maxDistanceKm?: number;
    holders: HolderSet;
    accept: (node: NodeRecord) => boolean;
    /** At most this many `accept` calls, nearest first (default: no limit). */
    maxAcceptCalls?: number;
  },
): Neighbour[] {
  const { holders, accept } = q;
  if (holders === undefined) return [];
  if (holders !== 'all' && holders.size * HOLDER_SCAN_FACTOR <= index.size) {
    return nearestAmong({
      ids: holders,
      nodeOf: (id) => index.get(id)?.node,
      at: q.location,
      limit: q.k,
      ...(q.maxDistanceKm !== undefined ? { maxDistanceKm: q.maxDistanceKm } : {}),
      accept,
      ...(q.maxAcceptCalls !== undefined ? { maxAcceptCalls: q.maxAcceptCalls } : {}),
    });
  }
  return index.nearest({
    ...q.location,
    k: q.k,
    ...(q.maxDistanceKm !== undefined ? { maxDistanceKm: q.maxDistanceKm } : {}),
    filter: (p) => accept(p.node),
    ...(q.maxAcceptCalls !== undefined ? { maxFilterCalls: q.maxAcceptCalls } : {}),
  });
}
