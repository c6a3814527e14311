import type { LatLng } from '@hexedge/protocol';
import type { Verdict } from '../store/records.ts';

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

/** A spot-check verdict about the node's own answer, not about a check it made of someone else's. */
export const isOwnCheck = (v: Verdict) => v.kind === 'spot-check' && v.details?.role !== 'checker';

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
 * the place it claims now, and no recent misconduct. Pure, so anyone can recompute it from the log.
 */
export function standingOf(options: {
  verdicts: readonly Verdict[];
  bondedBaseUnits: bigint;
  trust: number | undefined;
  claim: Claim | undefined;
  policy: StandingPolicy;
  nowMs: number;
}): Standing {
  const { verdicts, bondedBaseUnits, trust, claim, policy, nowMs } = options;
  const own = verdicts.filter((v) => isOwnCheck(v) && (v.status === 'pass' || v.status === 'fraud'));
  const passes = own.filter((v) => v.status === 'pass');
  // A loop, not Math.min(...): a spread of 125 000+ arguments overflows the stack (a busy node's month).
  let firstPassAtMs: number | undefined;
  for (const p of passes) if (firstPassAtMs === undefined || p.atMs < firstPassAtMs) firstPassAtMs = p.atMs;
  const reasons: string[] = [];

  const staked = bondedBaseUnits >= policy.minBondBaseUnits;
  reasons.push(
    `stake ${bondedBaseUnits} of ${policy.minBondBaseUnits} base units${staked ? '' : ' (too little)'}`,
  );
  const seasoned =
    passes.length >= policy.seasoningPasses &&
    (policy.seasoningPasses === 0 ||
      (firstPassAtMs !== undefined && nowMs - firstPassAtMs >= policy.seasoningMs));
  reasons.push(
    `seasoning ${passes.length}/${policy.seasoningPasses} passed answers${seasoned ? '' : ' (not yet seasoned)'}`,
  );
  const location = verdicts
    .filter((v) => v.kind === 'location' && v.status !== 'inconclusive')
    .sort((a, b) => b.atMs - a.atMs)[0];
  const located = location?.status === 'verified' && isSameClaim(location.details?.claim, claim);
  reasons.push(located ? 'location verified' : 'location not verified for its current claim');
  const misconduct = verdicts.filter(
    (v) =>
      nowMs - v.atMs < MISCONDUCT_MEMORY_MS &&
      (v.status === 'fraud' || (v.kind === 'challenger' && v.status === 'invalid')),
  );
  if (misconduct.length) reasons.push(`${misconduct.length} misconduct verdict(s) in the last 30 days`);
  const trusted = trust !== undefined && trust >= policy.minTrust;
  if (!trusted)
    reasons.push(trust === undefined ? 'trust unknown' : `trust ${trust} below ${policy.minTrust}`);
  return {
    verifier: staked && seasoned && located && misconduct.length === 0 && trusted,
    known: own.length > 0,
    passes: passes.length,
    reasons,
  };
}
