import type { RandomSource } from './random.ts';
import type { ScoredCandidate } from './scoring.ts';
import { PROBATION_TRAFFIC_SHARE } from './trust.ts';

/**
 * Candidates scoring within this of the best are interchangeable: heartbeat load is seconds old, so a
 * 10 % difference in predicted latency is within its error. Among them power-of-two-choices picks.
 */
export const P2C_MARGIN = 0.1;

const byScore = (a: ScoredCandidate, b: ScoredCandidate) =>
  a.score - b.score ||
  a.distanceKm - b.distanceKm ||
  (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0);

/** P2C's comparison: fewer of the caller's requests outstanding there, then the better score. */
const byLoadThenScore = (a: ScoredCandidate, b: ScoredCandidate) =>
  (a.inFlight ?? 0) - (b.inFlight ?? 0) || byScore(a, b);

/**
 * The failover list: first place by power-of-two-choices among the near-best (Mitzenmacher, "The Power
 * of Two Choices in Randomized Load Balancing", 2001: two random picks, keep the less loaded one), so
 * every gateway does not herd onto the one node that looked best at the last heartbeat; then the rest
 * by score. "Less loaded" is the caller's own count of requests outstanding there (`inFlight`, counted
 * by the gateway, so no node can claim it), then the score: the service times are measured seconds
 * apart, so without the count a burst would go whole to the best-scored twin, and move whole to the
 * other at its next slow sample (two near-best nodes took turns carrying a load test alone, each
 * move starting with a stall). A node that sits on requests collects them and loses first place. A node on probation keeps first place only PROBATION_TRAFFIC_SHARE of the time when a scored
 * node could take it; otherwise it becomes that node's fall-back.
 */
export function orderFailover(
  candidates: ScoredCandidate[],
  options: { k: number; random: RandomSource },
): ScoredCandidate[] {
  const sorted = candidates.sort(byScore);
  if (sorted.length < 2) return sorted.slice(0, options.k);
  const { random } = options;
  let nearBest = 1;
  while (nearBest < sorted.length && sorted[nearBest]!.score <= sorted[0]!.score + P2C_MARGIN) nearBest++;
  if (nearBest >= 2) {
    const i = Math.floor(random() * nearBest);
    let j = Math.floor(random() * (nearBest - 1));
    if (j >= i) j++;
    const first = byLoadThenScore(sorted[i]!, sorted[j]!) <= 0 ? i : j;
    sorted.unshift(sorted.splice(first, 1)[0]!);
  }
  if (sorted[0]!.probation && random() >= PROBATION_TRAFFIC_SHARE) {
    const scored = sorted.findIndex((c) => !c.probation);
    if (scored > 0) sorted.splice(scored, 0, sorted.shift()!);
  }
  return sorted.slice(0, options.k);
}
