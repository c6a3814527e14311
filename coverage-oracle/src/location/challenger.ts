import { greatCircleDistanceKm, type LatLng } from '@hexedge/protocol';

/** A place that can challenge: a verified node or gateway at a known location. */
export interface ChallengerCandidate {
  nodeId: string;
  location: LatLng;
  /** Only verified, trusted participants may judge others. */
  trusted: boolean;
}

/**
 * Picks who challenges a claim: trusted candidates nearest the claim (a near challenger gives the
 * tightest bound), never the node itself, at most `count`, ties broken by id so the choice is auditable.
 */
export function selectChallengers(options: {
  claim: LatLng;
  targetNodeId: string;
  candidates: readonly ChallengerCandidate[];
  count?: number;
  maxDistanceKm?: number;
}): ChallengerCandidate[] {
  const { claim, targetNodeId, count = 5, maxDistanceKm = 2000 } = options;
  return options.candidates
    .filter((c) => c.trusted && c.nodeId !== targetNodeId)
    .map((c) => ({ c, distanceKm: greatCircleDistanceKm(claim, c.location) }))
    .filter((x) => x.distanceKm <= maxDistanceKm)
    .sort((a, b) => a.distanceKm - b.distanceKm || (a.c.nodeId < b.c.nodeId ? -1 : 1))
    .slice(0, count)
    .map((x) => x.c);
}
