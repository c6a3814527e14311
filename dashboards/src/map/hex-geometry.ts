import { cellToBoundary } from 'h3-js';
import { latLngToWorld } from './projection.ts';

const paths = new Map<string, string>();
/** Cell outlines are fixed, so they are computed once; bounded so a long session cannot grow it forever. */
const MAX_CACHED = 20_000;

/** An H3 cell's outline as an SVG path in world units (see projection.ts). */
export function hexPath(cell: string): string {
  let d = paths.get(cell);
  if (d) return d;
  const boundary = cellToBoundary(cell);
  // A coarse cell straddling the antimeridian has vertices near +180 and -180: keep them on one side.
  const west = boundary.some(([, lng]) => lng > 90) && boundary.some(([, lng]) => lng < -90);
  d = `${boundary
    .map(([lat, lng], i) => {
      const w = latLngToWorld({ lat, lng: west && lng < 0 ? lng + 360 : lng });
      return `${i ? 'L' : 'M'}${w.x.toFixed(3)} ${w.y.toFixed(3)}`;
    })
    .join('')}Z`;
  if (paths.size >= MAX_CACHED) paths.clear();
  paths.set(cell, d);
  return d;
}
