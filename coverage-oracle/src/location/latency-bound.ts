/** Light in vacuum, km per ms (299 792.458 km/s). */
export const SPEED_OF_LIGHT_KM_PER_MS = 299_792.458 / 1000;
/** Light in optical fibre travels at about 2/3 c (refractive index ≈ 1.47). */
export const FIBER_KM_PER_MS = (SPEED_OF_LIGHT_KM_PER_MS * 2) / 3;
/**
 * Time a node may spend between reading a challenge and sending its answer (parse, sign with Ed25519,
 * serialise), subtracted before converting time to distance. Generous, because an overestimate only
 * shrinks the feasible disc, which can only make an honest node look nearer, never farther.
 */
export const DEFAULT_PROCESSING_ALLOWANCE_MS = 0.5;
/** Slack for the claim itself: an H3 res-7 cell's centre is within ~1.4 km of any point in it, plus jitter. */
export const CLAIM_SLACK_KM = 5;

/**
 * Farthest the challenged node can be from the challenger given a round trip of `rttMs`: half the
 * round trip after processing, at the medium's speed (fibre by default), and never beyond what light
 * in vacuum allows for the whole round trip. Nothing can shorten a round trip, so this bound is sound
 * for any honest challenger; what it cannot do is tell a near node from a slow one (that is why a
 * location is only "verified" when the bound is tight).
 */
export function maxDistanceKmForRtt(options: { rttMs: number; processingMs?: number; mediumKmPerMs?: number }): number {
  const { rttMs, processingMs = DEFAULT_PROCESSING_ALLOWANCE_MS, mediumKmPerMs = FIBER_KM_PER_MS } = options;
  if (!(rttMs >= 0)) return 0;
  const inMedium = (Math.max(0, rttMs - processingMs) / 2) * mediumKmPerMs;
  const lightLimit = (rttMs / 2) * SPEED_OF_LIGHT_KM_PER_MS;
  return Math.min(inMedium, lightLimit);
}

/** One challenger's verdict on a claim: a claim beyond the bound is impossible whatever else is said. */
export function checkClaimAgainstRtt(options: {
  claimDistanceKm: number;
  rttMs: number;
  processingMs?: number;
  mediumKmPerMs?: number;
}): { status: 'consistent' | 'impossible'; maxDistanceKm: number } {
  const maxDistanceKm = maxDistanceKmForRtt(options);
  return { status: options.claimDistanceKm > maxDistanceKm + CLAIM_SLACK_KM ? 'impossible' : 'consistent', maxDistanceKm };
}
