import { cellToLatLng, getResolution, isValidCell, latLngToCell } from 'h3-js';
import { HexEdgeError } from './errors.ts';

/** Mean Earth radius (IUGG), the sphere every distance in HexEdge is measured on. */
export const EARTH_RADIUS_KM = 6371.0088;
const DEG_TO_RAD = Math.PI / 180;

export interface LatLng {
  lat: number;
  lng: number;
}

/** An H3 cell index string that has been validated at a boundary. */
export type H3Cell = string & { readonly __brand: 'H3Cell' };

export function isValidLatLng(value: { lat: unknown; lng: unknown }): value is LatLng {
  const { lat, lng } = value;
  return (
    typeof lat === 'number' &&
    typeof lng === 'number' &&
    Number.isFinite(lat) &&
    Number.isFinite(lng) &&
    lat >= -90 &&
    lat <= 90 &&
    lng >= -180 &&
    lng <= 180
  );
}

/** Validates a coordinate pair, naming the offending value when it is out of range. */
export function toLatLng(value: { lat: unknown; lng: unknown }, field = 'location'): LatLng {
  const { lat, lng } = value;
  if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90) {
    throw new HexEdgeError('INVALID_LOCATION', `${field}.lat must be a number in [-90, 90], got ${String(lat)}`);
  }
  if (typeof lng !== 'number' || !Number.isFinite(lng) || lng < -180 || lng > 180) {
    throw new HexEdgeError('INVALID_LOCATION', `${field}.lng must be a number in [-180, 180], got ${String(lng)}`);
  }
  return { lat, lng };
}

export function toH3Cell(value: string, field = 'cell'): H3Cell {
  if (typeof value !== 'string' || !isValidCell(value)) {
    throw new HexEdgeError('INVALID_CELL', `${field} is not a valid H3 cell index: ${JSON.stringify(value)}`);
  }
  return value as H3Cell;
}

export function latLngToH3Cell(point: LatLng, resolution: number): H3Cell {
  return latLngToCell(point.lat, point.lng, resolution) as H3Cell;
}

export function h3CellToLatLng(cell: H3Cell): LatLng {
  const [lat, lng] = cellToLatLng(cell);
  return { lat, lng };
}

export function getCellResolution(cell: H3Cell): number {
  return getResolution(cell);
}

/** Great-circle distance on the HexEdge sphere (haversine; stable for small distances). */
export function greatCircleDistanceKm(a: LatLng, b: LatLng): number {
  const dLat = (b.lat - a.lat) * DEG_TO_RAD;
  const dLng = (b.lng - a.lng) * DEG_TO_RAD;
  const s =
    Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * DEG_TO_RAD) * Math.cos(b.lat * DEG_TO_RAD) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(s)));
}
