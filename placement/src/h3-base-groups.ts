import { getPentagons, getRes0Cells } from 'h3-js';
import { BASE_CELL_COUNT, cellCenterToUnitVector, getBaseCell } from './h3-cell-bits.ts';

/**
 * A fixed level above H3 res 0: each of the 122 base cells joins the group of its nearest
 * res-0 pentagon (the 12 icosahedron vertices), ~10 base cells per group. A query then compares
 * itself with 12 group caps first instead of ~100 occupied base cells, which was most of the work of
 * a k=5 query on city-distributed nodes.
 */
export const BASE_GROUP_COUNT = 12;

/** Group centers (x, y, z per group): the pentagons' centers. */
export const groupCenters = new Float64Array(BASE_GROUP_COUNT * 3);
/** Per base cell: its group, its slot in the group-ordered layout, its center's angle from the group center. */
export const groupOfBase = new Int32Array(BASE_CELL_COUNT);
export const layoutSlotOfBase = new Int32Array(BASE_CELL_COUNT);
export const separationRadOfBase = new Float64Array(BASE_CELL_COUNT);
/** Layout range of each group: base cells of group g sit at [groupStart[g], groupStart[g] + groupSize[g]). */
export const groupStart = new Int32Array(BASE_GROUP_COUNT);
export const groupSize = new Int32Array(BASE_GROUP_COUNT);

const pentagons = getPentagons(0);
pentagons.forEach((cell, g) => cellCenterToUnitVector(cell, groupCenters, g * 3));
const center = new Float64Array(3);
const membersByGroup: number[][] = Array.from({ length: BASE_GROUP_COUNT }, () => []);
for (const cell of getRes0Cells()) {
  cellCenterToUnitVector(cell, center, 0);
  let best = 0;
  let bestChordSquared = Infinity;
  for (let g = 0; g < BASE_GROUP_COUNT; g++) {
    const dx = center[0]! - groupCenters[g * 3]!;
    const dy = center[1]! - groupCenters[g * 3 + 1]!;
    const dz = center[2]! - groupCenters[g * 3 + 2]!;
    const chordSquared = dx * dx + dy * dy + dz * dz;
    if (chordSquared < bestChordSquared) {
      bestChordSquared = chordSquared;
      best = g;
    }
  }
  const base = getBaseCell(Number.parseInt(cell.slice(0, -8), 16));
  groupOfBase[base] = best;
  separationRadOfBase[base] = 2 * Math.asin(Math.min(1, Math.sqrt(bestChordSquared) / 2));
  membersByGroup[best]!.push(base);
}
let nextSlot = 0;
membersByGroup.forEach((members, g) => {
  groupStart[g] = nextSlot;
  groupSize[g] = members.length;
  for (const base of members) layoutSlotOfBase[base] = nextSlot++;
});
