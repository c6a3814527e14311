import {
  BASE_CELL_COUNT,
  CHILD_DIGITS,
  MAX_H3_RESOLUTION,
  cellCenterToUnitVector,
  getAncestorCell,
  getBaseCell,
  getDigit,
} from './h3-cell-bits.ts';
import {
  BASE_GROUP_COUNT,
  groupCenters,
  groupOfBase,
  layoutSlotOfBase,
  separationRadOfBase,
} from './h3-base-groups.ts';
import { COORDS_PER_POINT, growInt32, type PointTable } from './node-index-points.ts';

/**
 * An adaptive tree over the H3 cell hierarchy: a node is an occupied H3 cell (res 0–15), a leaf holds
 * the points whose res-15 cell descends from it. A leaf splits into its child cells past
 * `leafCapacity` points and an inner node collapses back at half that (hysteresis keeps a point that
 * moves back and forth from splitting and merging every time), so dense cities get deep, fine cells
 * and deserts stay one coarse cell: no ring walks through empty hexagons.
 *
 * Each node keeps its H3 center (one h3-js call when the node is created) and a covering radius: the
 * largest distance from that center to any point inserted below it since the node was created. That
 * radius is measured, not taken from H3's nominal cell size, so the search's lower bound is safe
 * even where H3 children poke out of their parent's outline, near pentagons, and in distorted cells.
 * It only grows while the node lives, which keeps it an upper bound after removals.
 */
export const NODE_GEOMETRY_STRIDE = 5;
/** Per node in `geometry`: center x, y, z, then sin(r/2) (half the radius chord) and cos(r/2). */
const HALF_CHORD = 3;
const COS_HALF = 4;
/** Rounding slack for group caps (radians; 1e-9 rad ≈ 6 mm), on top of the search's own slack. */
const GROUP_SLACK_RAD = 1e-9;

export class H3Tree {
  geometry: Float64Array;
  /** Points below the node. */
  count: Int32Array;
  parent: Int32Array;
  resolution: Int32Array;
  /** Index among the parent's children: the digit, or the base cell for res 0. */
  digit: Int32Array;
  /** CHILD_DIGITS entries per node, −1 where the child cell is empty. */
  children: Int32Array;
  /** Point slots of a leaf; undefined for an inner (or free) node. */
  readonly leafPoints: (number[] | undefined)[] = [];
  /** Node of each base cell, −1 when empty; and the same in group order (see h3-base-groups.ts). */
  readonly baseNode = new Int32Array(BASE_CELL_COUNT).fill(-1);
  readonly groupedBaseNodes = new Int32Array(BASE_CELL_COUNT).fill(-1);
  /** Covering radius of each group (node ids 0–11 are the groups): grows with its base cells' radii. */
  readonly #groupRadiusRad = new Float64Array(BASE_GROUP_COUNT);
  readonly #leafCapacity: number;
  readonly #freeNodes: number[] = [];
  #nextNode = 0;

  constructor(options: { leafCapacity: number }) {
    this.#leafCapacity = options.leafCapacity;
    const capacity = 256;
    this.geometry = new Float64Array(capacity * NODE_GEOMETRY_STRIDE);
    this.count = new Int32Array(capacity);
    this.parent = new Int32Array(capacity);
    this.resolution = new Int32Array(capacity);
    this.digit = new Int32Array(capacity);
    this.children = new Int32Array(capacity * CHILD_DIGITS).fill(-1);
    // The groups are pseudo-nodes 0–11: same geometry layout, so the search treats them like cells.
    for (let g = 0; g < BASE_GROUP_COUNT; g++) {
      const node = this.#nextNode++;
      this.geometry.set(groupCenters.subarray(g * 3, g * 3 + 3), node * NODE_GEOMETRY_STRIDE);
      this.geometry[node * NODE_GEOMETRY_STRIDE + COS_HALF] = 1;
      this.parent[node] = -1;
    }
  }

  insert(points: PointTable<unknown>, slot: number): void {
    const high = points.cellHigh[slot]!;
    const low = points.cellLow[slot]!;
    const base = getBaseCell(high);
    let node = this.baseNode[base]!;
    if (node < 0) {
      node = this.#createNode(points, slot, -1, 0, base);
      this.baseNode[base] = node;
      this.groupedBaseNodes[layoutSlotOfBase[base]!] = node;
    }
    for (;;) {
      this.count[node]!++;
      if (this.#coverPoint(node, points.coords, slot) && this.parent[node]! < 0) this.#coverBase(node, base);
      const list = this.leafPoints[node];
      if (list) {
        this.#appendToLeaf(points, node, list, slot);
        if (list.length > this.#leafCapacity) this.#split(points, node);
        return;
      }
      const res = this.resolution[node]! + 1;
      const d = getDigit(high, low, res);
      let child = this.children[node * CHILD_DIGITS + d]!;
      if (child < 0) child = this.#createNode(points, slot, node, res, d);
      node = child;
    }
  }

  remove(points: PointTable<unknown>, slot: number): void {
    const leaf = points.leaf[slot]!;
    const list = this.leafPoints[leaf]!;
    const position = points.leafPosition[slot]!;
    const last = list.pop()!;
    if (last !== slot) {
      list[position] = last;
      points.leafPosition[last] = position;
    }
    // Counts down the path; free cells left empty; remember the coarsest inner cell now small enough
    // to collapse back into one leaf.
    let collapse = -1;
    for (let node = leaf; node >= 0; ) {
      const up = this.parent[node]!;
      const left = --this.count[node]!;
      if (left === 0) this.#freeNode(node);
      else if (!this.leafPoints[node] && left <= this.#leafCapacity >> 1) collapse = node;
      node = up;
    }
    if (collapse >= 0) this.#collapse(points, collapse);
  }

  #appendToLeaf(points: PointTable<unknown>, node: number, list: number[], slot: number): void {
    points.leaf[slot] = node;
    points.leafPosition[slot] = list.length;
    list.push(slot);
  }

  /** Grows the node's covering radius to reach the point (chord arithmetic: no trig, exact near 0). */
  #coverPoint(node: number, coords: Float64Array, slot: number): boolean {
    const g = node * NODE_GEOMETRY_STRIDE;
    const p = slot * COORDS_PER_POINT;
    const dx = coords[p]! - this.geometry[g]!;
    const dy = coords[p + 1]! - this.geometry[g + 1]!;
    const dz = coords[p + 2]! - this.geometry[g + 2]!;
    const chordSquared = dx * dx + dy * dy + dz * dz;
    const halfChord = this.geometry[g + HALF_CHORD]!;
    if (chordSquared <= 4 * halfChord * halfChord) return false;
    const grown = Math.min(1, Math.sqrt(chordSquared) / 2);
    this.geometry[g + HALF_CHORD] = grown;
    this.geometry[g + COS_HALF] = Math.sqrt(1 - grown * grown);
    return true;
  }

  /**
   * A base cell's radius grew: its group's cap must still cover it (triangle inequality: group
   * center → base center → point). Grows only, like every radius here, so it stays an upper bound.
   */
  #coverBase(node: number, base: number): void {
    const group = groupOfBase[base]!;
    const radiusRad = 2 * Math.asin(this.geometry[node * NODE_GEOMETRY_STRIDE + HALF_CHORD]!);
    const reachRad = Math.min(Math.PI, separationRadOfBase[base]! + radiusRad + GROUP_SLACK_RAD);
    if (reachRad <= this.#groupRadiusRad[group]!) return;
    this.#groupRadiusRad[group] = reachRad;
    this.geometry[group * NODE_GEOMETRY_STRIDE + HALF_CHORD] = Math.sin(reachRad / 2);
    this.geometry[group * NODE_GEOMETRY_STRIDE + COS_HALF] = Math.cos(reachRad / 2);
  }

  #split(points: PointTable<unknown>, node: number): void {
    const res = this.resolution[node]!;
    if (res >= MAX_H3_RESOLUTION) return; // identical res-15 cells: nothing finer to split into
    const list = this.leafPoints[node]!;
    this.leafPoints[node] = undefined;
    for (const slot of list) {
      const d = getDigit(points.cellHigh[slot]!, points.cellLow[slot]!, res + 1);
      let child = this.children[node * CHILD_DIGITS + d]!;
      if (child < 0) child = this.#createNode(points, slot, node, res + 1, d);
      this.count[child]!++;
      this.#coverPoint(child, points.coords, slot);
      this.#appendToLeaf(points, child, this.leafPoints[child]!, slot);
    }
    for (let d = 0; d < CHILD_DIGITS; d++) {
      const child = this.children[node * CHILD_DIGITS + d]!;
      if (child >= 0 && this.leafPoints[child]!.length > this.#leafCapacity) this.#split(points, child);
    }
  }

  /** Turns an inner node back into a leaf holding every point below it; its radius still covers them. */
  #collapse(points: PointTable<unknown>, node: number): void {
    const list: number[] = [];
    this.#gatherAndFree(node, list);
    this.leafPoints[node] = list;
    for (let i = 0; i < list.length; i++) {
      points.leaf[list[i]!] = node;
      points.leafPosition[list[i]!] = i;
    }
  }

  #gatherAndFree(node: number, into: number[]): void {
    const list = this.leafPoints[node];
    if (list) {
      for (const slot of list) into.push(slot);
      return;
    }
    for (let d = 0; d < CHILD_DIGITS; d++) {
      const child = this.children[node * CHILD_DIGITS + d]!;
      if (child < 0) continue;
      this.#gatherAndFree(child, into);
      this.#release(child);
      this.children[node * CHILD_DIGITS + d] = -1;
    }
  }

  #createNode(points: PointTable<unknown>, slot: number, parent: number, res: number, digit: number): number {
    const node = this.#freeNodes.pop() ?? this.#nextNode++;
    if (node >= this.count.length) this.#grow();
    const g = node * NODE_GEOMETRY_STRIDE;
    const cell = getAncestorCell({ high: points.cellHigh[slot]!, low: points.cellLow[slot]! }, res);
    cellCenterToUnitVector(cell, this.geometry, g);
    this.geometry[g + HALF_CHORD] = 0;
    this.geometry[g + COS_HALF] = 1;
    this.count[node] = 0;
    this.parent[node] = parent;
    this.resolution[node] = res;
    this.digit[node] = digit;
    this.leafPoints[node] = [];
    if (parent >= 0) this.children[parent * CHILD_DIGITS + digit] = node;
    return node;
  }

  /** Unlinks an empty node from its parent (or the base-cell table) and recycles it. */
  #freeNode(node: number): void {
    const parent = this.parent[node]!;
    if (parent >= 0) {
      this.children[parent * CHILD_DIGITS + this.digit[node]!] = -1;
    } else {
      this.baseNode[this.digit[node]!] = -1;
      this.groupedBaseNodes[layoutSlotOfBase[this.digit[node]!]!] = -1;
    }
    this.#release(node);
  }

  #release(node: number): void {
    this.leafPoints[node] = undefined;
    this.children.fill(-1, node * CHILD_DIGITS, (node + 1) * CHILD_DIGITS);
    this.#freeNodes.push(node);
  }

  #grow(): void {
    const capacity = this.count.length * 2;
    const geometry = new Float64Array(capacity * NODE_GEOMETRY_STRIDE);
    geometry.set(this.geometry);
    this.geometry = geometry;
    this.count = growInt32(this.count, capacity);
    this.parent = growInt32(this.parent, capacity);
    this.resolution = growInt32(this.resolution, capacity);
    this.digit = growInt32(this.digit, capacity);
    this.children = growInt32(this.children, capacity * CHILD_DIGITS, -1);
  }
}
