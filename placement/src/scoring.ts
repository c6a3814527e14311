import type { NodeModel, PlacementPreference } from '@hexedge/protocol';
import type { NodeRecord } from './node-record.ts';

/** A node that could take the request, nearest-first from the index. */
export interface Candidate {
  node: NodeRecord;
  distanceKm: number;
}

/** A candidate with the figures it was ranked by. */
export interface ScoredCandidate extends Candidate {
  /** The node's entry for the model; `ready: false` only when the request's deadline covers the load. */
  model: NodeModel;
  /** Network round trip + Peak-EWMA service time + queue wait (+ cold load), in ms. */
  predictedLatencyMs: number;
  trust: number;
  /** No oracle score yet: capped share of first place (see PROBATION_TRAFFIC_SHARE). */
  probation: boolean;
  /** Time-decayed share of this node's calls that failed, as the gateway saw them (NodeHealthBook). */
  errorRate?: number;
  /** Lower is better; 0.1 ≈ "10 % slower than the best", see scoreCandidates. */
  score: number;
  /** The caller's requests outstanding at this node when it was ranked (absent: none); see orderFailover. */
  inFlight?: number;
}

/**
 * How much each term counts per `policy.prefer`. Latency is measured relative to the fastest candidate
 * and price relative to the typical price, so a weight of 1 on both trades "10 % slower" against
 * "10 % of a typical price dearer". Under `latency` a tenfold price costs about as much as being 3 %
 * slower (a tie-break); under `price` being twice as slow costs as much as a quarter of a typical price.
 */
export const PREFERENCE_WEIGHTS: Record<PlacementPreference, { latency: number; price: number }> = {
  latency: { latency: 1, price: 0.02 },
  balanced: { latency: 1, price: 1 },
  price: { latency: 0.25, price: 1 },
};
/** A trust of 0.8 costs as much as being 10 % slower (0.5 × 0.2). */
export const TRUST_WEIGHT = 0.5;
/**
 * An error rate of 10 % costs as much as being 30 % slower: a failed call costs the caller a failover
 * hop (a timeout at worst), so a node that fails often must be much faster to stay first.
 */
export const ERROR_WEIGHT = 3;

/**
 * Added to the score of a CPU node for a model that prefers an accelerator: more than any latency,
 * price or trust difference between near nodes (each term is a ratio around 0–1), so accelerated
 * nodes come first, yet the CPU node stays on the failover list.
 */
export const OFF_ACCELERATOR_PENALTY = 10;

type Scorable = Omit<ScoredCandidate, 'score'> & { score?: number; offAccelerator?: boolean };

/**
 * Scores candidates in place (lower is better):
 *   w.latency · (latency / fastest − 1) + w.price · (price − cheapest) / mean price + TRUST_WEIGHT · (1 − trust)
 *   + ERROR_WEIGHT · error rate.
 * Ratios, not min–max, so two near-identical nodes score near-identically and P2C can spread between them.
 */
export function scoreCandidates(candidates: Scorable[], prefer: PlacementPreference): ScoredCandidate[] {
  if (candidates.length === 0) return [];
  const weights = PREFERENCE_WEIGHTS[prefer];
  let fastestMs = Infinity;
  let cheapest = Infinity;
  let priceSum = 0;
  for (const c of candidates) {
    fastestMs = Math.min(fastestMs, c.predictedLatencyMs);
    cheapest = Math.min(cheapest, c.node.pricePerRequest);
    priceSum += c.node.pricePerRequest;
  }
  const meanPrice = priceSum / candidates.length;
  for (const c of candidates) {
    const latencyTerm = c.predictedLatencyMs / fastestMs - 1;
    const priceTerm = meanPrice > 0 ? (c.node.pricePerRequest - cheapest) / meanPrice : 0;
    c.score =
      weights.latency * latencyTerm +
      weights.price * priceTerm +
      TRUST_WEIGHT * (1 - c.trust) +
      ERROR_WEIGHT * (c.errorRate ?? 0) +
      (c.offAccelerator ? OFF_ACCELERATOR_PENALTY : 0);
  }
  return candidates as ScoredCandidate[];
}
