import { HexEdgeError, isValidLatLng, toLatLng, type LatLng } from '@hexedge/protocol';
import { latLngToSplitCell } from './h3-cell-bits.ts';
import { PointTable } from './node-index-points.ts';
import { NearestSearch } from './node-index-search.ts';
import { H3Tree } from './node-index-tree.ts';

export interface IndexedPoint {
  id: string;
  lat: number;
  lng: number;
}

export interface NearestQuery<T extends IndexedPoint> extends LatLng {
  k: number;
  maxDistanceKm?: number;
  filter?: (point: T) => boolean;
  /**
   * At most this many `filter` calls (a restrictive filter would otherwise walk every point): past it
   * the search ends with the nearest accepted among the points looked at, nearest first. Default: no limit.
   */
  maxFilterCalls?: number;
}

export interface Neighbour {
  id: string;
  distanceKm: number;
}

export interface NodeIndexOptions {
  /**
   * Points a leaf cell holds before it splits into its seven H3 children (it merges back at half).
   * 32 keeps a leaf scan to a few cache lines; measured on city-weighted nodes in bench/placement.
   */
  leafCapacity?: number;
}

export const DEFAULT_LEAF_CAPACITY = 32;

/**
 * Exact, dynamic k-nearest-neighbour index over points on the sphere, built on the H3 hierarchy (see
 * node-index-tree.ts). Results are exactly those of a brute-force scan with greatCircleDistanceKm:
 * nearest first, equal distances by id ascending, the same distanceKm values.
 *
 * A query's filter may query the index again but must not modify it.
 *
 * Updates touch only the moved point's path: re-upserting a point at the same coordinates replaces
 * its record and nothing else; a move costs one h3-js call (its res-15 cell) plus O(depth) work.
 */
export class NodeIndex<T extends IndexedPoint = IndexedPoint> {
  readonly #slots = new Map<string, number>();
  readonly #points = new PointTable<T>();
  readonly #tree: H3Tree;
  readonly #search = new NearestSearch<T>();
  #searchBusy = false;

  constructor(options: NodeIndexOptions = {}) {
    const leafCapacity = options.leafCapacity ?? DEFAULT_LEAF_CAPACITY;
    if (!Number.isInteger(leafCapacity) || leafCapacity < 2) {
      throw new HexEdgeError('INVALID_REQUEST', `leafCapacity must be an integer ≥ 2, got ${leafCapacity}`);
    }
    this.#tree = new H3Tree({ leafCapacity });
  }

  get size(): number {
    return this.#slots.size;
  }

  /** Inserts the point, or replaces the record with this id (moving it if its coordinates changed). */
  upsert(point: T): void {
    // Validate before touching anything, so a bad point is never half-applied.
    if (!isValidLatLng(point)) toLatLng(point, `point ${(point as IndexedPoint).id}`);
    const existing = this.#slots.get(point.id);
    if (existing !== undefined) {
      this.#points.records[existing] = point;
      // Compared with the stored coordinates, not the old record, which the caller may have mutated.
      if (this.#points.hasLocation(existing, point.lat, point.lng)) return;
      this.#tree.remove(this.#points, existing);
      this.#place(existing, point);
      return;
    }
    const slot = this.#points.allocate(point);
    this.#slots.set(point.id, slot);
    this.#place(slot, point);
  }

  remove(id: string): boolean {
    const slot = this.#slots.get(id);
    if (slot === undefined) return false;
    this.#tree.remove(this.#points, slot);
    this.#points.release(slot);
    this.#slots.delete(id);
    return true;
  }

  get(id: string): T | undefined {
    const slot = this.#slots.get(id);
    return slot === undefined ? undefined : this.#points.records[slot];
  }

  nearest(query: NearestQuery<T>): Neighbour[] {
    if (!isValidLatLng(query)) toLatLng(query, 'query');
    const { k } = query;
    if (!(k >= 0) || (Number.isFinite(k) && !Number.isInteger(k))) {
      throw new HexEdgeError('INVALID_REQUEST', `k must be a non-negative integer, got ${k}`);
    }
    const maxDistanceKm = query.maxDistanceKm ?? Number.POSITIVE_INFINITY;
    if (Number.isNaN(maxDistanceKm)) throw new HexEdgeError('INVALID_REQUEST', 'maxDistanceKm must be a number, got NaN');
    const limit = Math.min(k, this.#slots.size);
    if (limit === 0 || maxDistanceKm < 0) return [];
    // A filter that queries this index again gets its own search state.
    const search = this.#searchBusy ? new NearestSearch<T>() : this.#search;
    this.#searchBusy = true;
    try {
      return search.run(this.#tree, this.#points, {
        lat: query.lat,
        lng: query.lng,
        limit,
        maxDistanceKm,
        filter: query.filter,
        maxFilterCalls: query.maxFilterCalls ?? Infinity,
      });
    } finally {
      if (search === this.#search) this.#searchBusy = false;
    }
  }

  #place(slot: number, point: T): void {
    const cell = latLngToSplitCell(point.lat, point.lng);
    this.#points.cellHigh[slot] = cell.high;
    this.#points.cellLow[slot] = cell.low;
    this.#points.setLocation(slot, point.lat, point.lng);
    this.#tree.insert(this.#points, slot);
  }
}
