import type { NodeModel, PlacementPolicy } from '@hexedge/protocol';
import type { CheckedPolicy, QueryLocation } from './query.ts';
import type { RandomSource } from './random.ts';
import { scoreCandidates, type Candidate, type ScoredCandidate } from './scoring.ts';
import { orderFailover } from './selection.ts';

/** What placement's candidates() answers: the failover list for one request (placement.ts). */
export interface CandidateQuery {
  location: QueryLocation;
  model: string;
  version?: string;
  /** Length of the failover list. */
  k?: number;
  policy?: PlacementPolicy;
  /**
   * The caller's own requests now outstanding at each node (a gateway's forwards sent and not yet
   * answered): which of the near-best comes first (orderFailover). Scores and bounds ignore it.
   */
  inFlight?: InFlightCounts;
}

/** Requests a caller has outstanding per node id; a `Map<string, number>` is one. */
export interface InFlightCounts {
  get(nodeId: string): number | undefined;
}

/** Default length of a failover list: the chosen node and two fall-backs. */
export const DEFAULT_FAILOVER_LENGTH = 3;
/**
 * The nearest this many eligible nodes are scored. A farther node wins only if all of them are slow,
 * and a list this long already holds several idle ones in any city; it bounds the per-request work.
 */
export const CANDIDATE_POOL_SIZE = 16;
/**
 * Nodes a request's pool checks for eligibility at most (nearest first). A policy few nodes meet (a
 * trust minimum on a popular model) made the search check every holder; past this many, the pool is
 * the nearest eligible among those checked (when none of them is eligible, the search goes on
 * unbounded: a request is never refused that a full search answers). 128 times the pool, so a policy
 * met by 1 node in 128 around the caller still fills it; a region bound is narrowed by the region's
 * verified nodes first, exactly, so it rarely gets here.
 */
export const MAX_ELIGIBILITY_CHECKS = 2048;

/** A node in a candidate pool: what candidates() ranks, before its latency bounds apply. */
export interface PoolEntry extends Candidate {
  model: NodeModel;
  /** Network round trip + service time + queue wait, in ms (predictedLatencyMs adds a cold load). */
  runMs: number;
  predictedLatencyMs: number;
  trust: number;
  probation: boolean;
  /** The node's error rate as the gateway saw it (NodeHealthBook), scored with ERROR_WEIGHT. */
  errorRate: number;
  offAccelerator: boolean;
}

/**
 * The second half of candidates(): drops nodes past the policy's latency bounds, scores, orders.
 * `inFlight` (the caller's requests outstanding per node) goes with each candidate to orderFailover,
 * whose power-of-two-choices keeps the less loaded of its two picks among the near-best.
 */
export function rankCandidatePool(
  pool: PoolEntry[],
  options: { k: number; policy: CheckedPolicy; random: RandomSource; inFlight?: InFlightCounts },
): ScoredCandidate[] {
  const { policy, inFlight } = options;
  const scorable = [];
  for (const { runMs, ...entry } of pool) {
    if (
      runMs > (policy.maxLatencyMs ?? Infinity) ||
      entry.predictedLatencyMs > (policy.deadlineMs ?? Infinity)
    )
      continue;
    const pending = inFlight?.get(entry.node.id) ?? 0;
    scorable.push(pending > 0 ? { ...entry, inFlight: pending } : entry);
  }
  return orderFailover(scoreCandidates(scorable, policy.prefer), { k: options.k, random: options.random });
}
