import { greatCircleDistanceKm, type LatLng } from '@hexedge/protocol';
import { networkPrefixOf } from '../spot-check/checker-draw.ts';

/** A place that can challenge: a node with verifier standing, at the location the directory has for it. */
export interface ChallengerCandidate {
  nodeId: string;
  location: LatLng;
  /** Only nodes with verifier standing (staked, seasoned, located) may judge others. */
  verifier: boolean;
  /** The stake account that bonded it: one operator gets one voice per target. */
  operatorId?: string;
  /** Where it is reached: one network prefix gets one voice per target. */
  url?: string;
}

/**
 * Picks who challenges a claim: the oracle itself, always (its own probe is the one report no sybil
 * can forge), then the verifiers nearest the claim (a near challenger gives the tightest bound),
 * never the target, its operator or its network prefix, and at most one per operator and prefix, so
 * one party cannot fill a target's challenger set. Ties break by id, so the choice is auditable.
 */
export function selectChallengers(options: {
  claim: LatLng;
  target: { nodeId: string; operatorId?: string; url?: string };
  oracle: { nodeId: string; location: LatLng };
  candidates: readonly ChallengerCandidate[];
  count?: number;
  maxDistanceKm?: number;
}): ChallengerCandidate[] {
  const { claim, target, count = 5, maxDistanceKm = 2000 } = options;
  const picked: ChallengerCandidate[] = [{ ...options.oracle, verifier: true }];
  const operators = new Set([target.operatorId ?? target.nodeId]);
  const prefixes = new Set([networkPrefixOf(target.url)]);
  const near = options.candidates
    .filter((c) => c.verifier && c.nodeId !== target.nodeId && c.nodeId !== options.oracle.nodeId)
    .map((c) => ({ c, distanceKm: greatCircleDistanceKm(claim, c.location) }))
    .filter((x) => x.distanceKm <= maxDistanceKm)
    .sort((a, b) => a.distanceKm - b.distanceKm || (a.c.nodeId < b.c.nodeId ? -1 : 1));
  for (const { c } of near) {
    if (picked.length >= count) break;
    const operator = c.operatorId ?? c.nodeId;
    const prefix = networkPrefixOf(c.url);
    if (operators.has(operator) || (prefix && prefixes.has(prefix))) continue;
    operators.add(operator);
    prefixes.add(prefix);
    picked.push(c);
  }
  return picked;
}
