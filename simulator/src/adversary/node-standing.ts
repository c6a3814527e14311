import {
  computeTrust,
  standingOf,
  toTrustScoreEntry,
  type OracleConfig,
  type StakeLedger,
  type StandingEntry,
  type Verdict,
} from '@hexedge/coverage-oracle';
import type { NodeRecord } from '@hexedge/placement';
import type { TrustScoreEntry } from '@hexedge/protocol';
import type { NodeEvidence } from './evidence.ts';

/** A node's current location claim as the oracle's verdicts record it. */
export function claimOf(rec: NodeRecord): { lat: number; lng: number; claimedAtMs: number } {
  return {
    lat: rec.location.lat,
    lng: rec.location.lng,
    claimedAtMs: rec.locationChangedAtMs ?? rec.registeredAtMs,
  };
}

/** The verified location verdict a node that was part of the network before the run starts with. */
export function historyLocationVerdict(o: { nodeId: string; rec: NodeRecord; nowMs: number }): Verdict {
  return {
    id: `loc:${o.nodeId}:history`,
    nodeId: o.nodeId,
    kind: 'location',
    status: 'verified',
    reason: 'VERIFIED',
    atMs: o.nowMs,
    details: {
      claim: claimOf(o.rec),
      locationTrust: 0.9,
    },
  };
}

/** One node through the oracle's score stage: its trust push entry and its standing (trust, stake, claim). */
export function scoreNode(o: {
  id: string;
  evidence: NodeEvidence;
  ledger: StakeLedger;
  rec: NodeRecord | undefined;
  config: OracleConfig;
  nowMs: number;
}): { entry: TrustScoreEntry; standing: StandingEntry } {
  const { id, nowMs, config } = o;
  const verdicts = o.evidence.toVerdicts(id);
  const trust = computeTrust({ verdicts, nowMs });
  const entry = toTrustScoreEntry(id, trust);
  const stake = o.ledger.stakeOf(id, nowMs);
  const standing = standingOf({
    verdicts,
    bondedBaseUnits: stake.bondedBaseUnits,
    trust: trust.score,
    claim: o.rec ? claimOf(o.rec) : undefined,
    policy: {
      minBondBaseUnits: config.minBondBaseUnits,
      seasoningPasses: config.seasoningPasses,
      seasoningMs: config.seasoningMs,
      minTrust: config.minCheckerTrust,
    },
    nowMs,
  });
  return {
    entry,
    standing: { standing, operatorId: stake.operatorId ?? id, stakeBaseUnits: stake.bondedBaseUnits },
  };
}
