import { latLngToUnitVector } from './h3-cell-bits.ts';

const DEG_TO_RAD = Math.PI / 180;

/**
 * Per-point data in flat typed arrays, addressed by a reusable slot number, so a leaf scan reads one
 * 48-byte stride per point instead of chasing object fields. Layout of `coords` per slot:
 * [x, y, z] unit vector (cheap chord distance for pruning), [lat, lng, cos(lat)] for the exact
 * haversine of the few candidates that survive pruning.
 */
export const COORDS_PER_POINT = 6;
const INITIAL_CAPACITY = 1024;

export class PointTable<T> {
  coords = new Float64Array(INITIAL_CAPACITY * COORDS_PER_POINT);
  /** The point's res-15 H3 cell (split halves): its full path down the cell hierarchy. */
  cellHigh = new Uint32Array(INITIAL_CAPACITY);
  cellLow = new Uint32Array(INITIAL_CAPACITY);
  /** Tree node (a leaf) holding the point, and the point's position in that leaf's list. */
  leaf = new Int32Array(INITIAL_CAPACITY);
  leafPosition = new Int32Array(INITIAL_CAPACITY);
  readonly records: (T | undefined)[] = [];
  readonly #freeSlots: number[] = [];
  #nextSlot = 0;

  allocate(record: T): number {
    const slot = this.#freeSlots.pop() ?? this.#nextSlot++;
    if (slot >= this.leaf.length) this.#grow();
    this.records[slot] = record;
    return slot;
  }

  release(slot: number): void {
    this.records[slot] = undefined;
    this.#freeSlots.push(slot);
  }

  setLocation(slot: number, lat: number, lng: number): void {
    const offset = slot * COORDS_PER_POINT;
    latLngToUnitVector(lat, lng, this.coords, offset);
    this.coords[offset + 3] = lat;
    this.coords[offset + 4] = lng;
    // Same expression as greatCircleDistanceKm's cos(b.lat), so the inlined haversine is bit-identical.
    this.coords[offset + 5] = Math.cos(lat * DEG_TO_RAD);
  }

  hasLocation(slot: number, lat: number, lng: number): boolean {
    const offset = slot * COORDS_PER_POINT;
    return this.coords[offset + 3] === lat && this.coords[offset + 4] === lng;
  }

  #grow(): void {
    const capacity = this.leaf.length * 2;
    const coords = new Float64Array(capacity * COORDS_PER_POINT);
    coords.set(this.coords);
    this.coords = coords;
    this.cellHigh = growUint32(this.cellHigh, capacity);
    this.cellLow = growUint32(this.cellLow, capacity);
    this.leaf = growInt32(this.leaf, capacity);
    this.leafPosition = growInt32(this.leafPosition, capacity);
  }
}

export function growUint32(from: Uint32Array, capacity: number): Uint32Array<ArrayBuffer> {
  const to = new Uint32Array(capacity);
  to.set(from);
  return to;
}

export function growInt32(from: Int32Array, capacity: number, fill = 0): Int32Array<ArrayBuffer> {
  const to = new Int32Array(capacity);
  to.set(from);
  if (fill !== 0) to.fill(fill, from.length);
  return to;
}
