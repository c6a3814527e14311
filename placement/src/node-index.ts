import { greatCircleDistanceKm, type LatLng } from '@hexedge/protocol';

export interface IndexedPoint {
  id: string;
  lat: number;
  lng: number;
}

export interface NearestQuery<T extends IndexedPoint> extends LatLng {
  k: number;
  maxDistanceKm?: number;
  filter?: (point: T) => boolean;
}

export interface Neighbour {
  id: string;
  distanceKm: number;
}

/**
 * Exact k-nearest-neighbour index over points on the sphere. This first version scans every point;
 * its contract (exact results, ties broken by id) is what the H3 index that replaces it must keep.
 */
export class NodeIndex<T extends IndexedPoint = IndexedPoint> {
  readonly #points = new Map<string, T>();

  get size(): number {
    return this.#points.size;
  }

  upsert(point: T): void {
    this.#points.set(point.id, point);
  }

  remove(id: string): boolean {
    return this.#points.delete(id);
  }

  get(id: string): T | undefined {
    return this.#points.get(id);
  }

  nearest(query: NearestQuery<T>): Neighbour[] {
    const maxDistanceKm = query.maxDistanceKm ?? Number.POSITIVE_INFINITY;
    const found: Neighbour[] = [];
    for (const p of this.#points.values()) {
      if (query.filter && !query.filter(p)) continue;
      const distanceKm = greatCircleDistanceKm(query, p);
      if (distanceKm <= maxDistanceKm) found.push({ id: p.id, distanceKm });
    }
    found.sort((a, b) => a.distanceKm - b.distanceKm || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return found.slice(0, query.k);
  }
}
