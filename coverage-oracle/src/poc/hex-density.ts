import { cellToParent, getResolution, gridDisk } from 'h3-js';
import { roundToScalingPrecision } from './reward-units.ts';

/**
 * HIP-17 hex density: each hex at res 10 down to 4 may hold up to `target` hotspots' worth of reward,
 * more (up to `max`) when more than `neighbors` of its neighbours are themselves at target density.
 * A hotspot's scale is the product over its ancestors of clipped / unclipped count. Values are
 * Helium's on-chain `hip17_res_*` settings (HIP-104 table in helium/oracles `hex_density.rs`).
 */
export interface HexDensityRule {
  neighbors: number;
  target: number;
  max: number;
}

export const HEX_DENSITY_RULES: Readonly<Record<number, HexDensityRule>> = {
  4: { neighbors: 2, target: 500, max: 1000 },
  5: { neighbors: 4, target: 100, max: 200 },
  6: { neighbors: 4, target: 25, max: 50 },
  7: { neighbors: 4, target: 5, max: 10 },
  8: { neighbors: 2, target: 1, max: 1 },
  9: { neighbors: 2, target: 1, max: 1 },
  10: { neighbors: 2, target: 1, max: 1 },
};

/** Counting starts from res-11 parents; scaling then walks res 10 → 4 (Helium's USED_RES). */
const START_RESOLUTION = 11;
const DENSITY_RESOLUTIONS = [10, 9, 8, 7, 6, 5, 4] as const;

function limitFor(rule: HexDensityRule, occupiedNeighbours: number): number {
  const extra = Math.max(0, occupiedNeighbours - rule.neighbors);
  return Math.min(rule.max, rule.target * (extra + 1));
}

/**
 * Scale per asserted cell for a set of asserted hotspot cells (res ≥ 11; a cell listed twice is two
 * hotspots). Pure: the same set gives the same map. A lone hotspot scales 1; two in one res-8 hex 0.5.
 */
export function computeHexDensityScales(assertedCells: readonly string[]): Map<string, number> {
  const unclipped = new Map<string, number>();
  const clipped = new Map<string, number>();
  const add = (map: Map<string, number>, cell: string, n: number) => map.set(cell, (map.get(cell) ?? 0) + n);

  let level: string[] = [];
  for (const cell of assertedCells) {
    if (getResolution(cell) < START_RESOLUTION) continue;
    const parent = cellToParent(cell, START_RESOLUTION);
    add(unclipped, parent, 1);
    add(clipped, parent, 1);
    level.push(parent);
  }
  level = [...new Set(level)];

  for (const res of DENSITY_RESOLUTIONS) {
    const rule = HEX_DENSITY_RULES[res]!;
    const parents = new Set<string>();
    for (const cell of level) {
      const parent = cellToParent(cell, res);
      const childCount = clipped.get(cell) ?? 0;
      // A parent starts from the clipped counts of its children; Helium also seeds the clipped map
      // with them before clipping, which the occupied-neighbour count below then sees.
      add(unclipped, parent, childCount);
      add(clipped, parent, childCount);
      parents.add(parent);
    }
    for (const parent of parents) {
      const occupied = gridDisk(parent, 1).filter((c) => (clipped.get(c) ?? 0) >= rule.target).length;
      clipped.set(parent, Math.min(limitFor(rule, occupied), unclipped.get(parent)!));
    }
    level = [...parents];
  }

  const scales = new Map<string, number>();
  for (const cell of assertedCells) {
    const resolution = getResolution(cell);
    if (resolution < START_RESOLUTION) continue;
    let scale = 1;
    for (let res = resolution; res >= 4; res--) {
      const parent = res === resolution ? cell : cellToParent(cell, res);
      const u = unclipped.get(parent);
      const c = clipped.get(parent);
      if (u !== undefined && c !== undefined && u > 0) scale *= c / u;
    }
    scales.set(cell, roundToScalingPrecision(scale));
  }
  return scales;
}
