import { EARTH_RADIUS_KM, type LatencyObservation, type LatLng } from '@hexedge/protocol';
import { CLAIM_SLACK_KM, maxDistanceKmForRtt } from './latency-bound.ts';

export type { LatencyObservation };

export type LocationVerdictStatus = 'verified' | 'unverified' | 'impossible' | 'inconclusive';

export interface LocationVerdict {
  status: LocationVerdictStatus;
  /** VERIFIED, TOO_UNCERTAIN, CLAIM_OUTSIDE_BOUND, NO_MAJORITY, TOO_FEW_CHALLENGERS. */
  reason: string;
  /** 0–1: how strongly the proofs back the claim. */
  locationTrust: number;
  /** Centre of the region every consistent challenger allows, when there is one. */
  estimate?: LatLng;
  /** Radius of the smallest consistent disc: the region lies within it. */
  uncertaintyKm?: number;
  consistentChallengers: string[];
  /** Challengers whose bound the majority region contradicts (lying, or measuring badly). */
  outlierChallengers: string[];
}

export interface CombineOptions {
  claim: LatLng;
  observations: readonly LatencyObservation[];
  processingMs?: number;
  mediumKmPerMs?: number;
  /** Fewer challengers than this prove nothing. Default 3. */
  minChallengers?: number;
  /** The claim is "verified" when the consistent region is within this radius. Default 250 km. */
  verifiedWithinKm?: number;
  /** Backing challengers that must each bound the node within verifiedWithinKm for "verified" (default 2, as the oracle's config). */
  minTightChallengers?: number;
}

/**
 * A round trip of ~2.5 ms (fibre, after processing) bounds a node to ~250 km: city-to-region
 * precision, which is what placement's "nearest" needs; looser bounds leave the claim unverified.
 */
export const DEFAULT_VERIFIED_WITHIN_KM = 250;
/** Two tight challengers, so one colluder cannot vouch alone (the oracle's config default too; SECURITY.md). */
export const DEFAULT_MIN_TIGHT_CHALLENGERS = 2;

interface Disc {
  id: string;
  x: number;
  y: number;
  radiusKm: number;
}

const DEG = Math.PI / 180;

/** Local equirectangular plane around the claim: fine for the few hundred km that matter here. */
function toPlane(origin: LatLng, p: LatLng): { x: number; y: number } {
  return {
    x: (p.lng - origin.lng) * DEG * Math.cos(origin.lat * DEG) * EARTH_RADIUS_KM,
    y: (p.lat - origin.lat) * DEG * EARTH_RADIUS_KM,
  };
}

function fromPlane(origin: LatLng, p: { x: number; y: number }): LatLng {
  return {
    lat: origin.lat + p.y / EARTH_RADIUS_KM / DEG,
    lng: origin.lng + p.x / (EARTH_RADIUS_KM * Math.cos(origin.lat * DEG)) / DEG,
  };
}

/** Points where two circles cross; the deepest point of a set of discs is one of these or a centre. */
function circleCrossings(a: Disc, b: Disc): Array<{ x: number; y: number }> {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const d = Math.hypot(dx, dy);
  if (d === 0 || d > a.radiusKm + b.radiusKm || d < Math.abs(a.radiusKm - b.radiusKm)) return [];
  const along = (a.radiusKm ** 2 - b.radiusKm ** 2 + d * d) / (2 * d);
  const h = Math.sqrt(Math.max(0, a.radiusKm ** 2 - along * along));
  const mx = a.x + (along * dx) / d;
  const my = a.y + (along * dy) / d;
  return [
    { x: mx + (h * dy) / d, y: my - (h * dx) / d },
    { x: mx - (h * dy) / d, y: my + (h * dx) / d },
  ];
}

/**
 * Combines several challengers' bounds into one verdict. Each round trip gives a disc the node must be
 * in. The claim is impossible when most discs exclude it; otherwise the discs that contain it are the
 * consistent set (the rest are outliers), and trust grows with how tight their shared region is and
 * how many challengers agree.
 */
export function combineLocationObservations(options: CombineOptions): LocationVerdict {
  const { claim, observations, minChallengers = 3, verifiedWithinKm = DEFAULT_VERIFIED_WITHIN_KM } = options;
  const discs: Disc[] = observations.map((o) => ({
    id: o.challengerId,
    ...toPlane(claim, o.challengerLocation),
    radiusKm:
      maxDistanceKmForRtt({
        rttMs: o.rttMs,
        processingMs: options.processingMs,
        mediumKmPerMs: options.mediumKmPerMs,
      }) + CLAIM_SLACK_KM,
  }));
  const empty = { consistentChallengers: [], outlierChallengers: [] };
  if (discs.length < minChallengers)
    return { status: 'inconclusive', reason: 'TOO_FEW_CHALLENGERS', locationTrust: 0, ...empty };

  const EPS_KM = 1e-6;
  const contains = (d: Disc, p: { x: number; y: number }) =>
    Math.hypot(p.x - d.x, p.y - d.y) <= d.radiusKm + EPS_KM;
  // Judge the claim by majority: a minority of challengers (lying, or measuring badly) can neither
  // frame an honest node nor vouch for a dishonest one.
  const claimPoint = { x: 0, y: 0 };
  const backing = discs.filter((d) => contains(d, claimPoint));
  const excluding = discs.filter((d) => !contains(d, claimPoint));
  const sortedIds = (list: Disc[]) => list.map((d) => d.id).sort();

  if (excluding.length * 2 > discs.length) {
    // Where the node more likely is: the deepest point of all the discs.
    const deepest = deepestRegion(discs, contains);
    return {
      status: 'impossible',
      reason: 'CLAIM_OUTSIDE_BOUND',
      locationTrust: 0,
      estimate: fromPlane(claim, deepest.centre),
      uncertaintyKm: Math.min(...deepest.discs.map((d) => d.radiusKm)),
      consistentChallengers: sortedIds(deepest.discs),
      outlierChallengers: sortedIds(discs.filter((d) => !deepest.discs.includes(d))),
    };
  }
  const ids = { consistentChallengers: sortedIds(backing), outlierChallengers: sortedIds(excluding) };
  if (backing.length * 2 <= discs.length)
    return { status: 'inconclusive', reason: 'NO_MAJORITY', locationTrust: 0, ...ids };

  const region = deepestRegion(backing, contains);
  const estimate = fromPlane(claim, region.centre);
  // The k-th tightest backing disc (k = minTightChallengers): with k = 1 the tightest alone, so one
  // colluding challenger "0.1 ms away" from a far-off claim vouches for it (every honest disc, a bound
  // from above only, contains the claim too); with k = 2 it takes two.
  const radii = backing.map((d) => d.radiusKm).sort((a, b) => a - b);
  const k = Math.max(1, options.minTightChallengers ?? DEFAULT_MIN_TIGHT_CHALLENGERS);
  const uncertaintyKm = radii[Math.min(k, radii.length) - 1]!;
  const agreement = backing.length / discs.length;
  const tightness = Math.max(0, 1 - uncertaintyKm / (verifiedWithinKm * 10));
  if (uncertaintyKm > verifiedWithinKm || radii.length < k) {
    return {
      status: 'unverified',
      reason: 'TOO_UNCERTAIN',
      locationTrust: round3(0.5 * agreement * tightness),
      estimate,
      uncertaintyKm,
      ...ids,
    };
  }
  return {
    status: 'verified',
    reason: 'VERIFIED',
    locationTrust: round3(agreement * (0.5 + 0.5 * tightness)),
    estimate,
    uncertaintyKm,
    ...ids,
  };
}

/**
 * The largest set of discs with a common point, and the centre of what they share. The deepest point
 * of an arrangement of discs is a centre or a crossing of two circles, so those are the candidates.
 */
function deepestRegion(
  discs: Disc[],
  contains: (d: Disc, p: { x: number; y: number }) => boolean,
): { discs: Disc[]; centre: { x: number; y: number } } {
  const candidates: Array<{ x: number; y: number }> = discs.map((d) => ({ x: d.x, y: d.y }));
  for (let i = 0; i < discs.length; i++)
    for (let j = i + 1; j < discs.length; j++) candidates.push(...circleCrossings(discs[i]!, discs[j]!));
  let best: Disc[] = [];
  for (const p of candidates) {
    const set = discs.filter((d) => contains(d, p));
    if (set.length > best.length) best = set;
  }
  const inAll = candidates.filter((p) => best.every((d) => contains(d, p)));
  const centre = inAll.reduce(
    (acc, p) => ({ x: acc.x + p.x / inAll.length, y: acc.y + p.y / inAll.length }),
    { x: 0, y: 0 },
  );
  return { discs: best, centre };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
