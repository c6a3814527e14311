import type { TrustScoreEntry, VerifiedClaim } from '@hexedge/protocol';

/**
 * How one verified trust push from the coverage oracle changes placement: the same decision in the
 * Node gateway's in-process Placement, in each placement shard of the Worker (PlacementShard, which
 * holds its nodes' records and trust) and in the network simulator.
 */

/** What applying trust needs of placement: the in-process `Placement` fits it as it is. */
export interface TrustTarget {
  setTrust(nodeId: string, score: number, reasons?: string[]): unknown;
  markLocationVerified(nodeId: string): unknown;
  markLocationUnverified(nodeId: string): unknown;
  registry: { get(nodeId: string): ClaimHolder | undefined };
}

/** A registered node as far as its location claim goes. */
export interface ClaimHolder {
  location: { lat: number; lng: number };
  locationVerified: boolean;
  registeredAtMs: number;
  locationChangedAtMs: number | null;
}

/** What applying a push's entries did: nodes changed, and nodes this placement does not know. */
export interface TrustApplied {
  applied: string[];
  ignored: string[];
}

/** When a node made its current claim: its last move, or its registration. */
export const claimedAtMs = (node: ClaimHolder) => node.locationChangedAtMs ?? node.registeredAtMs;

/** Whether the claim a trust push names is the node's current one (same place, claimed at the same time). */
function isCurrentClaim(node: ClaimHolder, claim: VerifiedClaim | null | undefined): boolean {
  if (!claim) return false;
  if (claim.lat !== node.location.lat || claim.lng !== node.location.lng) return false;
  return claim.claimedAtMs === undefined || claim.claimedAtMs === claimedAtMs(node);
}

/**
 * Applies one verified push's scores to placement: nodes the registry does not know are skipped; a
 * node on probation keeps placement's probation (its score is not applied); location verification
 * follows the claim the entry names, and changes only while the node still makes exactly that claim.
 */
export function applyTrustEntries(options: {
  placement: TrustTarget;
  scores: readonly TrustScoreEntry[];
  /** Claims are taken as verified without an oracle's word (one machine): an entry never unverifies then. */
  assumeLocationsVerified?: boolean;
}): TrustApplied {
  const { placement } = options;
  const applied: string[] = [];
  const ignored: string[] = [];
  for (const s of options.scores) {
    const node = placement.registry.get(s.nodeId);
    if (!node) {
      ignored.push(s.nodeId);
      continue;
    }
    if (!s.probation) placement.setTrust(s.nodeId, s.score, s.reasons);
    if (isCurrentClaim(node, s.verifiedClaim)) {
      if (s.locationVerified && !node.locationVerified) placement.markLocationVerified(s.nodeId);
      if (!s.locationVerified && node.locationVerified && !options.assumeLocationsVerified)
        placement.markLocationUnverified(s.nodeId);
    }
    applied.push(s.nodeId);
  }
  return { applied, ignored };
}
