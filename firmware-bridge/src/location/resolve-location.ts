import type { LatLng } from '@hexedge/protocol';
import type { GatewayReception } from '../chirpstack/events.ts';
import { getPath } from '../mapping/field-path.ts';
import type { LocationPolicy } from '../registry/profile-schema.ts';

export type LocationMethod = 'fixed' | 'gps' | 'gateways';

export type ResolvedLocation =
  | { ok: true; location: LatLng; method: LocationMethod; gatewayCount?: number }
  | { ok: false; reason: string };

/**
 * Weighted-centroid localisation (Blumenthal et al., 2007) with weights 1/d. Under log-distance path
 * loss, d ∝ 10^(−RSSI / (10·n)), so 1/d = 10^(RSSI / (10·n)); n = 2.7 is a typical urban exponent.
 */
const PATH_LOSS_EXPONENT = 2.7;

/** Below 0 dB SNR the RSSI is mostly noise; RSSI + SNR estimates the signal power actually received. */
export function signalDbm(r: GatewayReception): number {
  return r.snrDb < 0 ? r.rssiDbm + r.snrDb : r.rssiDbm;
}

export function gatewayCentroid(receptions: readonly GatewayReception[]): { location: LatLng; gatewayCount: number } | undefined {
  const located = receptions.filter((r) => r.location);
  if (located.length === 0) return undefined;
  const strongest = Math.max(...located.map(signalDbm));
  let sum = 0;
  let lat = 0;
  let lng = 0;
  for (const r of located) {
    // Relative to the strongest reception, so the weights neither underflow nor overflow.
    const w = 10 ** ((signalDbm(r) - strongest) / (10 * PATH_LOSS_EXPONENT));
    sum += w;
    lat += w * r.location!.lat;
    lng += w * r.location!.lng;
  }
  return { location: { lat: lat / sum, lng: lng / sum }, gatewayCount: located.length };
}

export interface GpsFix {
  lat: number;
  lng: number;
  altitudeM?: number;
}

const validFix = (lat: unknown, lng: unknown) =>
  typeof lat === 'number' && typeof lng === 'number' && Math.abs(lat) <= 90 && Math.abs(lng) <= 180 && !(lat === 0 && lng === 0);

/** A GPS fix in a decoded payload: the profile's field, else the first `{ latitude, longitude }` value. */
export function findGpsFix(decoded: Record<string, unknown>, gpsField?: string): GpsFix | undefined {
  const candidates = gpsField ? [getPath(decoded, gpsField)] : [decoded, ...Object.values(decoded)];
  for (const c of candidates) {
    if (typeof c !== 'object' || c === null) continue;
    const { latitude, longitude, altitude } = c as Record<string, unknown>;
    if (validFix(latitude, longitude)) {
      return { lat: latitude as number, lng: longitude as number, ...(typeof altitude === 'number' ? { altitudeM: altitude } : {}) };
    }
  }
  return undefined;
}

export function resolveLocation(options: {
  policy: LocationPolicy;
  deviceLocation?: LatLng;
  gps?: GpsFix;
  receptions: readonly GatewayReception[];
}): ResolvedLocation {
  const { policy, deviceLocation, gps, receptions } = options;
  const fixed = deviceLocation ?? policy.fixed;
  if (fixed) return { ok: true, location: { lat: fixed.lat, lng: fixed.lng }, method: 'fixed' };
  if (policy.useGps && gps) return { ok: true, location: { lat: gps.lat, lng: gps.lng }, method: 'gps' };
  if (policy.useGateways) {
    const centroid = gatewayCentroid(receptions);
    if (centroid) return { ok: true, location: centroid.location, method: 'gateways', gatewayCount: centroid.gatewayCount };
  }
  return { ok: false, reason: 'no fixed location, no GPS fix in the payload and no receiving gateway with a location' };
}
