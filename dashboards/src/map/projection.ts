import type { LatLng } from '../types.ts';

/** The map's world is a square of this many units (Web Mercator), scaled and panned by the view. */
export const WORLD_UNITS = 1024;
/** Web Mercator is undefined at the poles; like web maps, cut it at ±85.0511° (a square world). */
export const MAX_MERCATOR_LAT = 85.0511;
/** Earth's equatorial circumference (WGS 84: 2π × 6378.137 km). */
export const EQUATOR_KM = 40_075.017;
/**
 * Mean H3 hexagon edge length per resolution in km (h3geo.org, "Tables of cell statistics across
 * resolutions"), used to pick the resolution whose hexes are a comfortable size on screen.
 */
export const H3_EDGE_KM = [1281.256, 483.057, 182.513, 68.979, 26.072, 9.854, 3.725, 1.406, 0.531, 0.201] as const;
/** Hexes about this wide on screen stay readable and clickable without filling the map. */
export const TARGET_HEX_EDGE_PX = 14;

export interface View {
  /** Screen pixels per world unit. */
  scale: number;
  /** Screen position of world (0, 0). */
  x: number;
  y: number;
}

export function latLngToWorld(p: LatLng): { x: number; y: number } {
  const lat = Math.max(-MAX_MERCATOR_LAT, Math.min(MAX_MERCATOR_LAT, p.lat));
  const phi = (lat * Math.PI) / 180;
  return {
    x: ((p.lng + 180) / 360) * WORLD_UNITS,
    y: ((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * WORLD_UNITS,
  };
}

export function worldToLatLng(w: { x: number; y: number }): LatLng {
  const n = Math.PI * (1 - (2 * w.y) / WORLD_UNITS);
  return { lat: (Math.atan(Math.sinh(n)) * 180) / Math.PI, lng: (w.x / WORLD_UNITS) * 360 - 180 };
}

/** Screen pixels per km at a latitude (Mercator stretches by 1/cos φ away from the equator). */
export function pxPerKm(view: View, lat: number): number {
  return (view.scale * WORLD_UNITS) / (EQUATOR_KM * Math.cos((lat * Math.PI) / 180));
}

/** The H3 resolution whose hexes are nearest TARGET_HEX_EDGE_PX across at the view's centre latitude. */
export function resolutionForView(options: { view: View; centerLat: number; maxRes: number }): number {
  const px = pxPerKm(options.view, options.centerLat);
  let best = 0;
  for (let res = 0; res <= options.maxRes; res++) {
    if (Math.abs(Math.log((H3_EDGE_KM[res]! * px) / TARGET_HEX_EDGE_PX)) < Math.abs(Math.log((H3_EDGE_KM[best]! * px) / TARGET_HEX_EDGE_PX))) best = res;
  }
  return best;
}

/** A view showing every point (with a margin), for a viewport of `width` × `height` pixels. */
export function fitView(options: { points: LatLng[]; width: number; height: number; minSpanUnits?: number }): View {
  const { width, height } = options;
  if (options.points.length === 0) return { scale: Math.min(width, height) / WORLD_UNITS, x: (width - Math.min(width, height)) / 2, y: 0 };
  const ws = options.points.map(latLngToWorld);
  const minX = Math.min(...ws.map((w) => w.x));
  const maxX = Math.max(...ws.map((w) => w.x));
  const minY = Math.min(...ws.map((w) => w.y));
  const maxY = Math.max(...ws.map((w) => w.y));
  // A lone node would zoom in to a street; show its surroundings (about a country's width).
  const span = Math.max(maxX - minX, maxY - minY, options.minSpanUnits ?? 12);
  // Generous margin: the hexes with the countries around them, so a newcomer sees where they are.
  const scale = Math.min(width, height) / (span * 2.4);
  return { scale, x: width / 2 - ((minX + maxX) / 2) * scale, y: height / 2 - ((minY + maxY) / 2) * scale };
}

/** Zooms by `factor` keeping the world point under (px, py) fixed on screen. */
export function zoomAt(view: View, options: { factor: number; px: number; py: number; minScale: number; maxScale: number }): View {
  const scale = Math.max(options.minScale, Math.min(options.maxScale, view.scale * options.factor));
  const f = scale / view.scale;
  return { scale, x: options.px - (options.px - view.x) * f, y: options.py - (options.py - view.y) * f };
}
