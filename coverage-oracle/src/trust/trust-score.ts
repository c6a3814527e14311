import type { TrustScoreEntry, VerifiedClaim } from '@hexedge/protocol';
import type { Verdict } from '../store/records.ts';
import { isOwnCheck } from './standing.ts';

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
/** Evidence loses half its weight a week after it was gathered, so a node can earn back, or lose, its standing. */
export const TRUST_HALF_LIFE_MS = 7 * 24 * 3600_000;
/** A confirmed fraud caps trust at 0.1 and the cap fades over a month (half-life): cheating once is remembered. */
export const FRAUD_TRUST_CAP = 0.1;
export const FRAUD_HALF_LIFE_MS = 30 * 24 * 3600_000;
/** A fraud outweighs this many passed spot checks. */
export const FRAUD_EVIDENCE_WEIGHT = 10;
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

/** Beta-style average of 0/1 outcomes with decayed weights, pulled towards the prior. */
function decayedMean(
  outcomes: Array<{ value: number; weight: number; atMs: number }>,
  nowMs: number,
  halfLifeMs: number,
): number | undefined {
  if (outcomes.length === 0) return undefined;
  let sum = PRIOR_TRUST * PRIOR_WEIGHT;
  let weight = PRIOR_WEIGHT;
  for (const o of outcomes) {
    const w = o.weight * decay(nowMs - o.atMs, halfLifeMs);
    sum += o.value * w;
    weight += w;
  }
  return sum / weight;
}

/**
 * A node's trust in [0, 1] from its verdicts: location proofs, PoC validity, spot checks and
 * availability, each a decayed average, combined by TRUST_WEIGHTS over the components that have
 * evidence, then capped after fraud. Pure, so the score can be recomputed by anyone from the log.
 */
export function computeTrust(options: {
  verdicts: readonly Verdict[];
  nowMs: number;
  halfLifeMs?: number;
}): TrustScore {
  const { verdicts, nowMs, halfLifeMs = TRUST_HALF_LIFE_MS } = options;
  const components: Partial<Record<TrustComponent, number>> = {};
  const reasons: string[] = [];

  const location = verdicts
    .filter((v) => v.kind === 'location' && v.status !== 'inconclusive')
    .sort((a, b) => b.atMs - a.atMs)[0];
  let locationVerified = false;
  let verifiedClaim: VerifiedClaim | null = null;
  if (location) {
    const claim = location.details?.claim as VerifiedClaim | undefined;
    if (claim)
      verifiedClaim = {
        lat: claim.lat,
        lng: claim.lng,
        ...(claim.claimedAtMs !== undefined ? { claimedAtMs: claim.claimedAtMs } : {}),
      };
    const proofTrust = location.status === 'impossible' ? 0 : Number(location.details?.locationTrust ?? 0);
    components.location = PRIOR_TRUST + (proofTrust - PRIOR_TRUST) * decay(nowMs - location.atMs, halfLifeMs);
    locationVerified = location.status === 'verified';
    reasons.push(
      `location ${location.status.toUpperCase()}${location.reason ? ` (${location.reason})` : ''}`,
    );
  }

  // A witness voided by its beaconer's fault says nothing about the witness.
  const poc = verdicts.filter(
    (v) => (v.kind === 'poc-beacon' || v.kind === 'poc-witness') && v.details?.side !== 'beaconer',
  );
  const pocValid = poc.filter((v) => v.status === 'valid').length;
  const pocMean = decayedMean(
    poc.map((v) => ({ value: v.status === 'valid' ? 1 : 0, weight: 1, atMs: v.atMs })),
    nowMs,
    halfLifeMs,
  );
  if (pocMean !== undefined) {
    components.poc = pocMean;
    reasons.push(`poc ${pocValid} valid / ${poc.length - pocValid} invalid`);
  }

  const checks = verdicts.filter((v) => v.kind === 'spot-check' && v.status !== 'inconclusive');
  const frauds = checks.filter((v) => v.status === 'fraud');
  const passed = checks.filter((v) => v.status === 'pass').length;
  const checkMean = decayedMean(
    checks.map((v) => ({
      value: v.status === 'pass' ? 1 : 0,
      weight: v.status === 'fraud' ? FRAUD_EVIDENCE_WEIGHT : 1,
      atMs: v.atMs,
    })),
    nowMs,
    halfLifeMs,
  );
  if (checkMean !== undefined) {
    components.spotChecks = checkMean;
    reasons.push(
      `spot checks ${passed} passed / ${checks.length - passed} failed${frauds.length ? `, ${frauds.length} FRAUD` : ''}`,
    );
  }

  // An uncorroborated "not answered" from a node challenger is no evidence.
  const probes = verdicts.filter((v) => v.kind === 'availability' && v.status !== 'inconclusive');
  const up = probes.filter((v) => v.status === 'up').length;
  const uptime = decayedMean(
    probes.map((v) => ({ value: v.status === 'up' ? 1 : 0, weight: 1, atMs: v.atMs })),
    nowMs,
    halfLifeMs,
  );
  if (uptime !== undefined) {
    components.uptime = uptime;
    reasons.push(`uptime ${up}/${probes.length} probes answered`);
  }

  let weightSum = 0;
  let score = 0;
  for (const [name, value] of Object.entries(components) as Array<[TrustComponent, number]>) {
    score += TRUST_WEIGHTS[name] * value;
    weightSum += TRUST_WEIGHTS[name];
  }
  score = weightSum > 0 ? score / weightSum : PRIOR_TRUST;
  if (frauds.length > 0) {
    const remembered = Math.min(
      1,
      frauds.reduce((s, f) => s + decay(nowMs - f.atMs, FRAUD_HALF_LIFE_MS), 0),
    );
    const cap = 1 - (1 - FRAUD_TRUST_CAP) * remembered;
    if (score > cap) reasons.push(`capped at ${round3(cap)} after fraud`);
    score = Math.min(score, cap);
  }
  for (const key of Object.keys(components) as TrustComponent[]) components[key] = round3(components[key]!);
  const known = checks.some(isOwnCheck);
  if (!known) reasons.unshift('unknown: no verified work of its own yet (probation)');
  return {
    score: round3(Math.min(1, Math.max(0, score))),
    reasons,
    components,
    locationVerified,
    verifiedClaim,
    known,
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
