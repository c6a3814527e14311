import type { TrustScoreEntry, VerifiedClaim } from '@hexedge/protocol';
import type { Verdict } from '../store/records.ts';
import { judgedLocation } from './judged-location.ts';
import {
  foldVerdicts,
  FRAUD_HALF_LIFE_MS,
  TRUST_HALF_LIFE_MS,
  type DecayedTally,
  type NodeEvidence,
} from './node-evidence.ts';

export { FRAUD_EVIDENCE_WEIGHT, FRAUD_HALF_LIFE_MS, TRUST_HALF_LIFE_MS } from './node-evidence.ts';

/**
 * Where the oracle publishes trust (the TrustPublisher pushes it to the gateways): the score with its
 * reasons, whether it is still unknown (probation), and the location claim its latest proof judged.
 */
export interface TrustSink {
  publish(entry: TrustScoreEntry): unknown;
}

/**
 * The centre of the Beta prior each component starts from. It is not a node's trust: a node without
 * verified work of its own is *unknown* (on probation, no weight as a verifier), whatever its score.
 */
export const PRIOR_TRUST = 0.5;
/** A confirmed fraud caps trust at 0.1 and the cap fades over a month (FRAUD_HALF_LIFE_MS): cheating once is remembered. */
export const FRAUD_TRUST_CAP = 0.1;
/** Pseudo-observations of the prior: a single result does not swing a component to 0 or 1. */
const PRIOR_WEIGHT = 2;

export const TRUST_WEIGHTS = { location: 0.3, poc: 0.2, spotChecks: 0.3, uptime: 0.2 } as const;
export type TrustComponent = keyof typeof TRUST_WEIGHTS;

export interface TrustScore {
  score: number;
  reasons: string[];
  components: Partial<Record<TrustComponent, number>>;
  locationVerified: boolean;
  /** The claim the latest location proof judged (verified or not), or null without one. */
  verifiedClaim: VerifiedClaim | null;
  /** Whether the node has verified work of its own (a conclusive spot check of its answers). */
  known: boolean;
}

const decay = (ageMs: number, halfLifeMs: number) => 0.5 ** (Math.max(0, ageMs) / halfLifeMs);
const round3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * A node's trust in [0, 1] from its verdicts: location proofs, PoC validity, spot checks and
 * availability, each a decayed average, combined by TRUST_WEIGHTS over the components that have
 * evidence, then capped after fraud. Pure, so the score can be recomputed by anyone from the log:
 * it is `trustFromEvidence` over the verdicts' fold, the same definition the score stage reads from
 * the store's running evidence.
 */
export function computeTrust(options: {
  verdicts: readonly Verdict[];
  nowMs: number;
  halfLifeMs?: number;
}): TrustScore {
  const { verdicts, nowMs, halfLifeMs = TRUST_HALF_LIFE_MS } = options;
  return trustFromEvidence(foldVerdicts(verdicts, { halfLifeMs }), nowMs);
}

/** The score before rounding, with its components and reasons (what `trustFromEvidence` rounds). */
export interface ExactTrust {
  score: number;
  components: Partial<Record<TrustComponent, number>>;
  reasons: string[];
  /** The fraud cap, when frauds are remembered (the reason rounds it). */
  fraudCap?: number;
}

/**
 * Trust at `nowMs` from a node's folded evidence. Every count in the reasons is over all its verdicts
 * (evidence older than 8 half-lives weighs under 0.4 %, so reading it changes scores by less than that;
 * the counts just say how much was ever judged). A verdict dated after `nowMs` weighs 2^(ahead/halfLife)
 * (> 1; verdicts carry the oracle's own clock, so none is).
 */
export function exactTrustFromEvidence(evidence: Readonly<NodeEvidence>, nowMs: number): ExactTrust {
  const e = evidence;
  const components: Partial<Record<TrustComponent, number>> = {};
  const reasons: string[] = [];
  const toNow = e.refMs === null ? 0 : 2 ** ((e.refMs - nowMs) / e.halfLifeMs);
  // Beta-style average of 0/1 outcomes with decayed weights, pulled towards the prior.
  const mean = (t: DecayedTally) =>
    t.count === 0
      ? undefined
      : (PRIOR_TRUST * PRIOR_WEIGHT + t.positiveWeight * toNow) / (PRIOR_WEIGHT + t.weight * toNow);

  const judged = judgedLocation(e.latestLocations, nowMs);
  if (judged) {
    const { location, heldThrough } = judged;
    components.location =
      PRIOR_TRUST + (location.proofTrust - PRIOR_TRUST) * decay(nowMs - location.atMs, e.halfLifeMs);
    reasons.push(
      `location ${location.status.toUpperCase()}${location.reason ? ` (${location.reason})` : ''}` +
        (heldThrough ? `, held through ${heldThrough} round(s) too uncertain to judge` : ''),
    );
  }
  const poc = mean(e.poc);
  if (poc !== undefined) {
    components.poc = poc;
    reasons.push(`poc ${e.poc.positives} valid / ${e.poc.count - e.poc.positives} invalid`);
  }
  const checks = mean(e.checks);
  if (checks !== undefined) {
    components.spotChecks = checks;
    const { positives: passed, count, frauds } = e.checks;
    reasons.push(
      `spot checks ${passed} passed / ${count - passed} failed${frauds ? `, ${frauds} FRAUD` : ''}`,
    );
  }
  const uptime = mean(e.uptime);
  if (uptime !== undefined) {
    components.uptime = uptime;
    reasons.push(`uptime ${e.uptime.positives}/${e.uptime.count} probes answered`);
  }

  let weightSum = 0;
  let score = 0;
  for (const [name, value] of Object.entries(components) as Array<[TrustComponent, number]>) {
    score += TRUST_WEIGHTS[name] * value;
    weightSum += TRUST_WEIGHTS[name];
  }
  score = weightSum > 0 ? score / weightSum : PRIOR_TRUST;
  let fraudCap: number | undefined;
  if (e.checks.frauds > 0) {
    const remembered = Math.min(
      1,
      e.refMs === null ? 0 : e.fraudMemory * 2 ** ((e.refMs - nowMs) / FRAUD_HALF_LIFE_MS),
    );
    fraudCap = 1 - (1 - FRAUD_TRUST_CAP) * remembered;
    if (score > fraudCap) reasons.push(`capped at ${round3(fraudCap)} after fraud`);
    score = Math.min(score, fraudCap);
  }
  if (e.ownChecks === 0) reasons.unshift('unknown: no verified work of its own yet (probation)');
  return { score, components, reasons, ...(fraudCap !== undefined ? { fraudCap } : {}) };
}

/** Trust at `nowMs` from a node's folded evidence (the store's, or `foldVerdicts` of its verdicts), rounded as published. */
export function trustFromEvidence(evidence: Readonly<NodeEvidence>, nowMs: number): TrustScore {
  const exact = exactTrustFromEvidence(evidence, nowMs);
  const components: Partial<Record<TrustComponent, number>> = {};
  for (const key of Object.keys(exact.components) as TrustComponent[])
    components[key] = round3(exact.components[key]!);
  const location = judgedLocation(evidence.latestLocations, nowMs)?.location;
  const claim = location?.claim;
  return {
    score: round3(Math.min(1, Math.max(0, exact.score))),
    reasons: exact.reasons,
    components,
    locationVerified: location?.status === 'verified',
    verifiedClaim: claim
      ? {
          lat: claim.lat,
          lng: claim.lng,
          ...(claim.claimedAtMs !== undefined ? { claimedAtMs: claim.claimedAtMs } : {}),
        }
      : null,
    known: evidence.ownChecks > 0,
  };
}

/** What the score stage publishes for a node: its score, whether it is still unknown (probation) and the claim its latest proof judged. */
export function toTrustScoreEntry(nodeId: string, trust: TrustScore): TrustScoreEntry {
  return {
    nodeId,
    score: trust.score,
    reasons: trust.reasons,
    locationVerified: trust.locationVerified,
    probation: !trust.known,
    verifiedClaim: trust.verifiedClaim,
  };
}
