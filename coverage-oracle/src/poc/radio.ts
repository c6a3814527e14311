import { cellToParent, gridDistance } from 'h3-js';
import { greatCircleDistanceKm, h3CellToLatLng, type H3Cell } from '@hexedge/protocol';
import { SPEED_OF_LIGHT_IN_AIR_M_PER_S, WITNESS_CELL_PARENT_RESOLUTION } from './constants.ts';

/** Distance between two asserted cells' centres, rounded to whole metres as Helium's verifier rounds it. */
export function cellCentreDistanceM(a: H3Cell, b: H3Cell): number {
  return Math.round(greatCircleDistanceKm(h3CellToLatLng(a), h3CellToLatLng(b)) * 1000);
}

/** Grid steps between the res-11 parents of two cells; null when H3 cannot measure it (across a pentagon). */
export function parentCellDistance(a: H3Cell, b: H3Cell): number | null {
  try {
    return gridDistance(cellToParent(a, WITNESS_CELL_PARENT_RESOLUTION), cellToParent(b, WITNESS_CELL_PARENT_RESOLUTION));
  } catch {
    return null;
  }
}

/** Free-space path loss in dB: 20·log10(4π·d·f/c) (Friis). */
export function freeSpacePathLossDb(options: { distanceM: number; frequencyHz: number }): number {
  return 20 * Math.log10((4 * Math.PI * options.distanceM * options.frequencyHz) / SPEED_OF_LIGHT_IN_AIR_M_PER_S);
}

/**
 * The strongest signal a witness can physically hear: tx power + both antenna gains − free-space loss.
 * Real links lose more (terrain, walls), so a witness louder than this is lying about where it is.
 */
export function maxExpectedSignalDbm(options: {
  txPowerDbm: number;
  beaconerGainDbi: number;
  witnessGainDbi: number;
  distanceM: number;
  frequencyHz: number;
}): number {
  const lossDb = freeSpacePathLossDb({ distanceM: options.distanceM, frequencyHz: options.frequencyHz });
  return options.txPowerDbm + options.beaconerGainDbi + options.witnessGainDbi - lossDb;
}
