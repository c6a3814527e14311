import { cellToLatLng, h3IndexToSplitLong, latLngToCell, splitLongToH3Index } from 'h3-js';

/**
 * Bit-level access to H3 indexes held as two unsigned 32-bit halves, so that walking a point's
 * ancestors (res 0 → 15) costs shifts and masks instead of one h3-js call (and one string) per level.
 *
 * H3 index layout (https://h3geo.org/docs/core-library/h3Indexing): bit 63 reserved, 59–62 mode,
 * 56–58 reserved, 52–55 resolution, 45–51 base cell, then 15 digits of 3 bits, digit 1 at bits 42–44
 * down to digit 15 at bits 0–2; digits past the cell's resolution are 7.
 */

/** Finest H3 resolution: every point keeps its res-15 cell (≈0.9 m² average area), its full digit path. */
export const MAX_H3_RESOLUTION = 15;
/** Base cells at res 0 (110 hexagons + 12 pentagons). */
export const BASE_CELL_COUNT = 122;
/** Children per cell: 7 digits (a pentagon's children skip digit 1). */
export const CHILD_DIGITS = 7;

const BITS_PER_DIGIT = 3;
/** Resolution field: bits 52–55, i.e. bits 20–23 of the high half. */
const RES_SHIFT_IN_HIGH = 52 - 32;
/** Base cell field: bits 45–51, i.e. bits 13–19 of the high half. */
const BASE_CELL_SHIFT_IN_HIGH = 45 - 32;

export interface SplitCell {
  high: number;
  low: number;
}

/** The res-15 cell containing a point, as split halves (one h3-js call). */
export function latLngToSplitCell(lat: number, lng: number): SplitCell {
  const [low, high] = h3IndexToSplitLong(latLngToCell(lat, lng, MAX_H3_RESOLUTION));
  return { high: high >>> 0, low: low >>> 0 };
}

export function getBaseCell(high: number): number {
  return (high >>> BASE_CELL_SHIFT_IN_HIGH) & 0x7f;
}

/** Digit `resolution` (1–15) of a cell: which child of its res-(resolution−1) parent it lies in. */
export function getDigit(high: number, low: number, resolution: number): number {
  const offset = (MAX_H3_RESOLUTION - resolution) * BITS_PER_DIGIT;
  if (offset >= 32) return (high >>> (offset - 32)) & 7;
  if (offset <= 29) return (low >>> offset) & 7;
  // Digit 5 (offset 30) straddles the halves: two bits from the low half, one from the high.
  return ((low >>> 30) | ((high & 1) << 2)) & 7;
}

/** The ancestor of a res-15 cell at `resolution`: set the resolution field, fill unused digits with 7. */
export function getAncestorCell(cell: SplitCell, resolution: number): string {
  const unusedBits = (MAX_H3_RESOLUTION - resolution) * BITS_PER_DIGIT;
  let high = (cell.high & ~(0xf << RES_SHIFT_IN_HIGH)) | (resolution << RES_SHIFT_IN_HIGH);
  let low = cell.low;
  if (unusedBits >= 32) {
    low = 0xffffffff;
    high |= (1 << (unusedBits - 32)) - 1;
  } else if (unusedBits > 0) {
    low |= (1 << unusedBits) - 1;
  }
  return splitLongToH3Index(low >>> 0, high >>> 0);
}

/** Unit vector of a cell's center, written into `out` at `offset` (x, y, z). */
export function cellCenterToUnitVector(cell: string, out: Float64Array, offset: number): void {
  const [lat, lng] = cellToLatLng(cell);
  latLngToUnitVector(lat, lng, out, offset);
}

const DEG_TO_RAD = Math.PI / 180;

export function latLngToUnitVector(lat: number, lng: number, out: Float64Array, offset: number): void {
  const latRad = lat * DEG_TO_RAD;
  const lngRad = lng * DEG_TO_RAD;
  const cosLat = Math.cos(latRad);
  out[offset] = cosLat * Math.cos(lngRad);
  out[offset + 1] = cosLat * Math.sin(lngRad);
  out[offset + 2] = Math.sin(latRad);
}
