import type { LatLng } from '@hexedge/protocol';
import type { Verdict } from '../store/records.ts';
import { judgedLocation } from './judged-location.ts';
import { foldVerdicts, type NodeEvidence } from './node-evidence.ts';

/** What a node needs before its word counts as a checker's or a challenger's. */
export interface StandingPolicy {
  /** Bonded (slashable) stake, base units. */
  minBondBaseUnits: bigint;
  /** Sampled-and-passed answers of its own… */
  seasoningPasses: number;
  /** …the first at least this long ago. */
  seasoningMs: number;
  /** And a trust score at least this high (fraud caps trust far below it). */
  minTrust: number;
}

/** A location claim as the directory knows it: where, and since when the node claims it. */
export interface Claim extends LatLng {
  claimedAtMs?: number;
}

export interface Standing {
  /** May check others' work and challenge their locations. */
  verifier: boolean;
  /** Has verified work of its own (a conclusive spot check): its trust is known, not a prior. */
  known: boolean;
  /** Sampled-and-passed answers of its own. */
  passes: number;
  /** Why (not): one line per condition. */
  reasons: string[];
}

/**
 * Misconduct as a verifier (a check the referee contradicted, a challenge report the majority
 * contradicted) takes standing away for this long, after which the node must season again.
 */
export const MISCONDUCT_MEMORY_MS = 30 * 24 * 3600_000;

export { isOwnCheck } from './node-evidence.ts';

/** Whether a location verdict judged exactly this claim (a verdict on an earlier place says nothing of the current one). */
export function isSameClaim(judged: unknown, current: Claim | undefined): boolean {
  if (!current || !judged || typeof judged !== 'object') return false;
  const j = judged as Partial<Claim>;
  if (j.lat !== current.lat || j.lng !== current.lng) return false;
  return (
    j.claimedAtMs === undefined || current.claimedAtMs === undefined || j.claimedAtMs === current.claimedAtMs
  );
}

/**
 * A node's standing from its verdicts, stake and trust: an identity is worth nothing until it has
 * bonded stake, seasoned (answers of its own sampled and passed, over time), a verified location for
 * the place it claims now, and no recent misconduct. Pure, so anyone can recompute it from the log:
 * it is `standingFromEvidence` over the verdicts' fold, as the score stage reads the store's evidence.
 */
export function standingOf(options: {
  verdicts: readonly Verdict[];
  bondedBaseUnits: bigint;
  trust: number | undefined;
  claim: Claim | undefined;
  policy: StandingPolicy;
  nowMs: number;
}): Standing {
  const { verdicts, ...rest } = options;
  return standingFromEvidence({ evidence: foldVerdicts(verdicts), ...rest });
}

/** Standing from a node's folded evidence (passes are counted over all its verdicts). */
export function standingFromEvidence(options: {
  evidence: Readonly<NodeEvidence>;
  bondedBaseUnits: bigint;
  trust: number | undefined;
  claim: Claim | undefined;
  policy: StandingPolicy;
  nowMs: number;
}): Standing {
  const { evidence: e, bondedBaseUnits, trust, claim, policy, nowMs } = options;
  const firstPassAtMs = e.firstPasses[0]?.atMs;
  const reasons: string[] = [];

  const staked = bondedBaseUnits >= policy.minBondBaseUnits;
  reasons.push(
    `stake ${bondedBaseUnits} of ${policy.minBondBaseUnits} base units${staked ? '' : ' (too little)'}`,
  );
  const seasoned =
    e.ownPasses >= policy.seasoningPasses &&
    (policy.seasoningPasses === 0 ||
      (firstPassAtMs !== undefined && nowMs - firstPassAtMs >= policy.seasoningMs));
  reasons.push(
    `seasoning ${e.ownPasses}/${policy.seasoningPasses} passed answers${seasoned ? '' : ' (not yet seasoned)'}`,
  );
  const location = judgedLocation(e.latestLocations, nowMs)?.location;
  const located = location?.status === 'verified' && isSameClaim(location.claim, claim);
  reasons.push(located ? 'location verified' : 'location not verified for its current claim');
  // The kept misconduct is the newest: when all of it is recent and more exists, the count is a floor.
  let misconduct = 0;
  for (const m of e.latestMisconduct) if (nowMs - m.atMs < MISCONDUCT_MEMORY_MS) misconduct++;
  const floor = misconduct === e.latestMisconduct.length && e.misconduct > misconduct ? '+' : '';
  if (misconduct) reasons.push(`${misconduct}${floor} misconduct verdict(s) in the last 30 days`);
  const trusted = trust !== undefined && trust >= policy.minTrust;
  if (!trusted)
    reasons.push(trust === undefined ? 'trust unknown' : `trust ${trust} below ${policy.minTrust}`);
  return {
    verifier: staked && seasoned && located && misconduct === 0 && trusted,
    known: e.ownPasses + e.ownFrauds > 0,
    passes: e.ownPasses,
    reasons,
  };
}
