import { cellToLatLng } from 'h3-js';
import { HexEdgeError } from '@hexedge/protocol';
import type { CoverageCell, CoverageMap } from '../coverage/coverage-map.ts';

/** Hexes one `/v1/coverage` answer lists at most; a larger area is asked in pieces (the answer says `truncated`). */
export const MAX_COVERAGE_CELLS = 1000;
/** A bbox may span at most this many degrees a side (~550 km north–south): the map asks per viewport. */
export const MAX_BBOX_SPAN_DEG = 5;

function parseBbox(raw: string): { minLat: number; minLng: number; maxLat: number; maxLng: number } {
  const parts = raw.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 4 || parts.some((p) => !Number.isFinite(p))) {
    throw new HexEdgeError('INVALID_LOCATION', `bbox must be minLat,minLng,maxLat,maxLng in degrees, got ${JSON.stringify(raw.slice(0, 100))}`);
  }
  const [minLat, minLng, maxLat, maxLng] = parts as [number, number, number, number];
  if (minLat < -90 || maxLat > 90 || minLng < -180 || maxLng > 180 || minLat > maxLat || minLng > maxLng) {
    throw new HexEdgeError('INVALID_LOCATION', `bbox ${raw} is out of range or inverted (min must not exceed max)`);
  }
  if (maxLat - minLat > MAX_BBOX_SPAN_DEG || maxLng - minLng > MAX_BBOX_SPAN_DEG) {
    throw new HexEdgeError('INVALID_LOCATION', `bbox ${raw} spans more than ${MAX_BBOX_SPAN_DEG}° a side; ask for a smaller area`);
  }
  return { minLat, minLng, maxLat, maxLng };
}

/**
 * `GET /v1/coverage?cell=` (a hex of res ≥ 5), `?lat=&lng=` (a point) or `?bbox=minLat,minLng,maxLat,maxLng`.
 * A bbox is answered from the covered hexes, never by enumerating the area's res-8 hexes (a 5° box
 * holds millions), and at most MAX_COVERAGE_CELLS of them.
 */
export function queryCoverage(coverage: CoverageMap, query: { cell?: string; bbox?: string; lat?: string; lng?: string }): { cells: CoverageCell[]; truncated: boolean } {
  if (query.cell !== undefined) return { cells: coverage.query({ cell: query.cell }), truncated: false };
  if (query.lat !== undefined || query.lng !== undefined) {
    const lat = Number(query.lat);
    const lng = Number(query.lng);
    if (!Number.isFinite(lat) || !Number.isFinite(lng) || query.lat?.trim() === '' || query.lng?.trim() === '') {
      throw new HexEdgeError('INVALID_LOCATION', `lat and lng must both be numbers, got ${JSON.stringify(query.lat)}, ${JSON.stringify(query.lng)}`);
    }
    return { cells: coverage.query({ lat, lng }), truncated: false };
  }
  if (query.bbox === undefined) throw new HexEdgeError('INVALID_REQUEST', 'give one of cell, lat and lng, or bbox');
  const box = parseBbox(query.bbox);
  // A hex belongs to the box when its centre does: a hex straddling the edge is listed once, by one box.
  const inside = (cell: string) => {
    const [lat, lng] = cellToLatLng(cell);
    return lat >= box.minLat && lat <= box.maxLat && lng >= box.minLng && lng <= box.maxLng;
  };
  const all = coverage.cells().filter((c) => inside(c.cell));
  return { cells: all.slice(0, MAX_COVERAGE_CELLS), truncated: all.length > MAX_COVERAGE_CELLS };
}
