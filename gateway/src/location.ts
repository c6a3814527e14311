import { h3CellToLatLng, toH3Cell, toLatLng, type LatLng, type LocationInput } from '@hexedge/protocol';

/** A request's location: a coordinate pair, or an H3 cell standing for its centre. */
export function resolveLocation(location: LocationInput): LatLng {
  if ('cell' in location) return h3CellToLatLng(toH3Cell(location.cell, 'location.cell'));
  return toLatLng(location, 'location');
}
