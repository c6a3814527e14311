import type { GeometryCollection, Topology } from 'topojson-specification';
import { feature } from 'topojson-client';
import countries from 'world-atlas/countries-110m.json' with { type: 'json' };
import { latLngToWorld } from './projection.ts';

type Ring = [number, number][];

function ringToPath(ring: Ring): string {
  let d = '';
  let prevLng: number | undefined;
  for (const [lng, lat] of ring) {
    const w = latLngToWorld({ lat, lng });
    // A ring crossing the antimeridian (Fiji, Chukotka) would streak across the map: break it there.
    const jump = prevLng !== undefined && Math.abs(lng - prevLng) > 180;
    d += `${d === '' || jump ? 'M' : 'L'}${w.x.toFixed(2)} ${w.y.toFixed(2)}`;
    prevLng = lng;
  }
  return `${d}Z`;
}

let cached: string[] | undefined;

/** Country outlines (Natural Earth 1:110m via world-atlas, bundled) as SVG paths in world units. */
export function countryPaths(): string[] {
  if (cached) return cached;
  const topo = countries as unknown as Topology<{ countries: GeometryCollection }>;
  const fc = feature(topo, topo.objects.countries);
  cached = fc.features.flatMap((f) => {
    const g = f.geometry;
    if (!g) return [];
    const polygons = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
    return [polygons.map((rings) => rings.map((r) => ringToPath(r as Ring)).join('')).join('')];
  });
  return cached;
}
