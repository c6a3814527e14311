import { EARTH_RADIUS_KM } from '@hexedge/protocol';
import { BASE_GROUP_COUNT, groupSize, groupStart } from './h3-base-groups.ts';
import { BASE_CELL_COUNT, CHILD_DIGITS, MAX_H3_RESOLUTION } from './h3-cell-bits.ts';
import { NeighbourHeap } from './node-index-heap.ts';
import { COORDS_PER_POINT, type PointTable } from './node-index-points.ts';
import { NODE_GEOMETRY_STRIDE, type H3Tree } from './node-index-tree.ts';

const DEG_TO_RAD = Math.PI / 180;
/**
 * Slack added to the pruning radius, in radians (1e-7 rad ≈ 0.64 m). Pruning uses chord lengths of
 * unit vectors while results use the haversine; they agree to ~1e-15 rad except next to the antipode,
 * where asin(√s) turns s's rounding (~2e-16) into ~3e-8 rad. The slack only admits a few extra
 * candidates to the exact check, so it is generous.
 */
const PRUNE_SLACK_RAD = 1e-7;
/** Depths: the 12 base-cell groups, their base cells (res 0), then one per resolution 1–15. */
const MAX_DEPTH = MAX_H3_RESOLUTION + 2;
/** Node ids 0–11 are the groups (see H3Tree). */
const GROUP_NODES = Int32Array.from({ length: BASE_GROUP_COUNT }, (_, g) => g);

export interface SearchQuery<T> {
  lat: number;
  lng: number;
  /** Result count, already clamped to the index size. */
  limit: number;
  maxDistanceKm: number;
  filter: ((record: T) => boolean) | undefined;
  /** Stop after this many filter calls, answering with the nearest accepted so far (a work budget). */
  maxFilterCalls: number;
}

/**
 * Depth-first branch and bound over the H3 tree: children are visited nearest-first, and a cell is
 * entered only if the angle from the query to its center, minus its covering radius, is within the
 * current k-th distance (+ slack). Everything is compared as sines of half-angles (chord lengths),
 * so no trig runs per cell or per point; only survivors get the exact haversine.
 */
export class NearestSearch<T> {
  readonly #heap = new NeighbourHeap();
  // Per-depth scratch for the children being visited: ids and their ordering keys.
  readonly #childIds: Int32Array[] = [];
  readonly #childKeys: Float64Array[] = [];
  readonly #childChords: Float64Array[] = [];
  // Query state (fields, not closures, to keep the hot loops monomorphic and allocation-free).
  #qx = 0;
  #qy = 0;
  #qz = 0;
  #qLat = 0;
  #qLng = 0;
  #qCosLat = 0;
  #maxDistanceKm = Infinity;
  #filter: ((record: T) => boolean) | undefined;
  #filterCallsLeft = Infinity;
  /** sin and cos of half the pruning angle, and the pruning chord squared for points. */
  #sinHalf = 1;
  #cosHalf = 0;
  #pointChordSquared = Infinity;
  #tree!: H3Tree;
  #points!: PointTable<T>;

  constructor() {
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const width = depth <= 1 ? BASE_CELL_COUNT : CHILD_DIGITS;
      this.#childIds.push(new Int32Array(width));
      this.#childKeys.push(new Float64Array(width));
      this.#childChords.push(new Float64Array(width));
    }
  }

  run(tree: H3Tree, points: PointTable<T>, query: SearchQuery<T>): { id: string; distanceKm: number }[] {
    this.#tree = tree;
    this.#points = points;
    const latRad = query.lat * DEG_TO_RAD;
    const lngRad = query.lng * DEG_TO_RAD;
    this.#qx = Math.cos(latRad) * Math.cos(lngRad);
    this.#qy = Math.cos(latRad) * Math.sin(lngRad);
    this.#qz = Math.sin(latRad);
    this.#qLat = query.lat;
    this.#qCosLat = Math.cos(query.lat * DEG_TO_RAD);
    this.#qLng = query.lng;
    this.#maxDistanceKm = query.maxDistanceKm;
    this.#filter = query.filter;
    this.#filterCallsLeft = query.maxFilterCalls;
    this.#heap.reset(query.limit, points.records as unknown as { id: string }[]);
    this.#setBound(query.maxDistanceKm);
    this.#visitChildren(GROUP_NODES, 0, BASE_GROUP_COUNT, 0);
    const result = this.#heap.drainSorted();
    this.#filter = undefined;
    return result;
  }

  /** Sets the pruning angle to `distanceKm` plus slack (everything, past the antipode). */
  #setBound(distanceKm: number): void {
    const angle = distanceKm / EARTH_RADIUS_KM + PRUNE_SLACK_RAD;
    if (!(angle < Math.PI)) {
      this.#sinHalf = 1;
      this.#cosHalf = 0;
      this.#pointChordSquared = Infinity;
      return;
    }
    this.#sinHalf = Math.sin(angle / 2);
    this.#cosHalf = Math.cos(angle / 2);
    this.#pointChordSquared = 4 * this.#sinHalf * this.#sinHalf;
  }

  /**
   * Can the node hold a point within the pruning angle D? Its points lie within r of its center c, so
   * they are at least θ(q, c) − r away; enter iff θ/2 ≤ D/2 + r/2, i.e. sin(θ/2) = chord/2 ≤
   * sin(D/2 + r/2) = sin(D/2)cos(r/2) + cos(D/2)sin(r/2), or always when D/2 + r/2 ≥ 90°.
   */
  #mayHoldCloser(node: number, chordSquared: number): boolean {
    const g = node * NODE_GEOMETRY_STRIDE;
    const sinR = this.#tree.geometry[g + 3]!;
    const cosR = this.#tree.geometry[g + 4]!;
    if (this.#cosHalf * cosR - this.#sinHalf * sinR <= 0) return true;
    const sinSum = this.#sinHalf * cosR + this.#cosHalf * sinR;
    return chordSquared <= 4 * sinSum * sinSum;
  }

  /**
   * Visits the nodes `nodes[offset .. offset+length)` that may hold a closer point, nearest first
   * (ordered by chord to center minus radius chord). After each visit the bound has usually shrunk,
   * so the rest are re-tested and dropped before choosing the next, instead of being sorted.
   */
  #visitChildren(nodes: Int32Array, offset: number, length: number, depth: number): void {
    const ids = this.#childIds[depth]!;
    const keys = this.#childKeys[depth]!;
    const chords = this.#childChords[depth]!;
    const geometry = this.#tree.geometry;
    let n = 0;
    for (let i = offset; i < offset + length; i++) {
      const node = nodes[i]!;
      if (node < 0) continue;
      const g = node * NODE_GEOMETRY_STRIDE;
      const dx = geometry[g]! - this.#qx;
      const dy = geometry[g + 1]! - this.#qy;
      const dz = geometry[g + 2]! - this.#qz;
      const chordSquared = dx * dx + dy * dy + dz * dz;
      if (!this.#mayHoldCloser(node, chordSquared)) continue;
      ids[n] = node;
      chords[n] = chordSquared;
      keys[n++] = Math.sqrt(chordSquared) - 2 * geometry[g + 3]!;
    }
    const tree = this.#tree;
    // A spent filter budget ends the search: the heap holds the nearest accepted among those looked at.
    while (n > 0 && this.#filterCallsLeft > 0) {
      let best = 0;
      for (let i = 1; i < n; i++) if (keys[i]! < keys[best]!) best = i;
      const node = ids[best]!;
      n--;
      ids[best] = ids[n]!;
      keys[best] = keys[n]!;
      chords[best] = chords[n]!;
      const list = tree.leafPoints[node];
      if (list) this.#scanLeaf(list);
      else if (node < BASE_GROUP_COUNT) this.#visitChildren(tree.groupedBaseNodes, groupStart[node]!, groupSize[node]!, 1);
      else this.#visitChildren(tree.children, node * CHILD_DIGITS, CHILD_DIGITS, depth + 1);
      let kept = 0;
      for (let i = 0; i < n; i++) {
        if (!this.#mayHoldCloser(ids[i]!, chords[i]!)) continue;
        ids[kept] = ids[i]!;
        keys[kept] = keys[i]!;
        chords[kept++] = chords[i]!;
      }
      n = kept;
    }
  }

  #scanLeaf(list: number[]): void {
    const coords = this.#points.coords;
    const records = this.#points.records;
    for (let i = 0; i < list.length; i++) {
      const slot = list[i]!;
      const p = slot * COORDS_PER_POINT;
      const dx = coords[p]! - this.#qx;
      const dy = coords[p + 1]! - this.#qy;
      const dz = coords[p + 2]! - this.#qz;
      if (dx * dx + dy * dy + dz * dz > this.#pointChordSquared) continue;
      if (this.#filter) {
        if (this.#filterCallsLeft <= 0) return;
        this.#filterCallsLeft--;
        if (!this.#filter(records[slot]!)) continue;
      }
      const distanceKm = this.#haversineKm(coords[p + 3]!, coords[p + 4]!, coords[p + 5]!);
      if (distanceKm > this.#maxDistanceKm) continue;
      if (this.#heap.offer(distanceKm, slot) && this.#heap.isFull()) {
        this.#setBound(Math.min(this.#heap.worstDistanceKm(), this.#maxDistanceKm));
      }
    }
  }

  /** greatCircleDistanceKm(query, point), term for term, so results are bit-identical to it. */
  #haversineKm(lat: number, lng: number, cosLat: number): number {
    const dLat = (lat - this.#qLat) * DEG_TO_RAD;
    const dLng = (lng - this.#qLng) * DEG_TO_RAD;
    const s = Math.sin(dLat / 2) ** 2 + this.#qCosLat * cosLat * Math.sin(dLng / 2) ** 2;
    return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(s)));
  }
}
