/**
 * The trust and standing definitions as they were before the evidence fold (main ae0e6b3), kept
 * verbatim as the reference the fold is property-tested against (test/node-evidence.property.test.ts).
 * Changes: the exported names, `exactScore` (the score before rounding) in the result, nothing else.
 */
import type { VerifiedClaim } from '@hexedge/protocol';
import type { Verdict } from '../src/store/records.ts';
import {
  FRAUD_EVIDENCE_WEIGHT,
  FRAUD_HALF_LIFE_MS,
  FRAUD_TRUST_CAP,
  PRIOR_TRUST,
  TRUST_HALF_LIFE_MS,
  TRUST_WEIGHTS,
  type TrustComponent,
  type TrustScore,
} from '../src/trust/trust-score.ts';
import {
  isOwnCheck,
  isSameClaim,
  MISCONDUCT_MEMORY_MS,
  type Claim,
  type Standing,
  type StandingPolicy,
} from '../src/trust/standing.ts';

const PRIOR_WEIGHT = 2;
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
export function referenceTrust(options: {
  verdicts: readonly Verdict[];
  nowMs: number;
  halfLifeMs?: number;
}): TrustScore & { exactScore: number; exactComponents: Partial<Record<TrustComponent, number>> } {
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
  const exactScore = score;
  const exactComponents = { ...components };
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
    exactScore,
    exactComponents,
  };
}

export function referenceStanding(options: {
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
