import { HexEdgeError } from '@hexedge/protocol';
import {
  CANDIDATE_POOL_SIZE,
  DEFAULT_FAILOVER_LENGTH,
  type CandidateQuery,
  type PoolEntry,
} from './candidate-pool.ts';
import type { DemandWindow } from './demand.ts';
import type { Eligibility } from './eligibility.ts';
import { coldLoadMs, maxDistanceKmForRttMs, networkRttMs, queueWaitMs } from './latency.ts';
import type { ModelHolders } from './model-holders.ts';
import { narrower, nearestOf, type IndexedNode } from './nearest-search.ts';
import type { NodeHealthBook } from './node-health.ts';
import type { NodeIndex } from './node-index.ts';
import { findModel, meetsAcceleratorNeed, type NodeRecord } from './node-record.ts';
import type { ServiceTimes } from './peak-ewma.ts';
import { checkK, checkPolicy, toQueryLatLng, type CheckedPolicy } from './query.ts';
import type { TrustBook } from './trust.ts';

/**
 * The first half of placement's candidates() (split out of placement.ts): the nearest eligible nodes
 * for a request with the figures they are ranked by; rankCandidatePool (candidate-pool.ts) ranks them.
 */
export class CandidateSearch {
  readonly #index: NodeIndex<IndexedNode>;
  readonly #holders: ModelHolders;
  readonly #demand: DemandWindow;
  readonly #eligibility: Eligibility;
  readonly #serviceTimes: ServiceTimes;
  readonly #trust: TrustBook;
  readonly #health: NodeHealthBook;
  readonly #now: () => number;
  readonly #maxEligibilityChecks: number;

  constructor(o: {
    index: NodeIndex<IndexedNode>;
    holders: ModelHolders;
    demand: DemandWindow;
    eligibility: Eligibility;
    serviceTimes: ServiceTimes;
    trust: TrustBook;
    health: NodeHealthBook;
    now: () => number;
    maxEligibilityChecks: number;
  }) {
    this.#index = o.index;
    this.#holders = o.holders;
    this.#demand = o.demand;
    this.#eligibility = o.eligibility;
    this.#serviceTimes = o.serviceTimes;
    this.#trust = o.trust;
    this.#health = o.health;
    this.#now = o.now;
    this.#maxEligibilityChecks = o.maxEligibilityChecks;
  }

  pool(
    query: CandidateQuery,
    recordDemand: boolean,
  ): { k: number; policy: CheckedPolicy; pool: PoolEntry[] } {
    const k = checkK(query.k ?? DEFAULT_FAILOVER_LENGTH);
    const location = toQueryLatLng(query.location);
    const policy = checkPolicy(query.policy);
    const { model, version } = query;
    if (typeof model !== 'string' || model === '')
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `model must be a non-empty string, got ${JSON.stringify(model)}`,
      );
    if (recordDemand) this.#demand.record({ location, model, ...(version !== undefined ? { version } : {}) });

    const boundMs = Math.min(policy.maxLatencyMs ?? Infinity, policy.deadlineMs ?? Infinity);
    const search = {
      location,
      k: Math.max(k, CANDIDATE_POOL_SIZE),
      maxDistanceKm: Number.isFinite(boundMs) ? maxDistanceKmForRttMs(boundMs) : Infinity,
      // A region bound narrows the search to the region's verified nodes (exact: no other is eligible).
      holders: narrower(
        this.#holders.ofModel(model, version),
        policy.regionId !== undefined ? this.#holders.inVerifiedRegion(policy.regionId) : 'all',
      ),
      accept: (node: NodeRecord) => this.#eligibility.isEligible(node, { model, version, policy }),
    };
    let pool = nearestOf(this.#index, { ...search, maxAcceptCalls: this.#maxEligibilityChecks });
    // Nothing eligible among the nodes the budget reached: search on, unbounded, rather than refuse a
    // request a full search answers. Free identities crowding a caller (more probation nodes than the
    // budget, all nearer than any eligible one) then cost the full search they cost before the budget,
    // never a refusal; a request that finds anyone within the budget stays bounded.
    if (pool.length === 0) pool = nearestOf(this.#index, search);
    const nowMs = this.#now();
    const entries = pool.map(({ id, distanceKm }): PoolEntry => {
      const node = this.#index.get(id)!.node;
      const entry = findModel(node, model, version)!;
      const serviceMs = this.#serviceTimes.estimateMs({
        nodeId: id,
        model,
        reportedMs: entry.load?.ewmaServiceMs,
        nowMs,
      });
      const runMs = networkRttMs(distanceKm) + serviceMs + queueWaitMs(entry.load, serviceMs);
      return {
        node,
        distanceKm,
        model: entry,
        runMs,
        predictedLatencyMs: runMs + coldLoadMs(entry),
        trust: this.#trust.scoreOf(id),
        probation: this.#trust.isOnProbation(id),
        errorRate: this.#health.errorRate(id, nowMs),
        offAccelerator: !meetsAcceleratorNeed(node, entry),
      };
    });
    return { k, policy, pool: entries };
  }
}
