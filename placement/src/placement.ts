import { HexEdgeError, type Hardware, type LatLng, type ModelManifest } from '@hexedge/protocol';
import { DemandWindow } from './demand.ts';
import { NodeIndex } from './node-index.ts';
import { ModelHolders } from './model-holders.ts';
import type { NodeRecord } from './node-record.ts';
import { NodeRegistry } from './node-registry.ts';
import { MemoryNodeStore, type TrustRecord } from './node-store.ts';
import { nearestNodes, nodesWithin } from './node-queries.ts';
import type { PlacementOptions } from './placement-options.ts';
import { NodeHealthBook } from './node-health.ts';
import { ServiceTimes } from './peak-ewma.ts';
import type { JoiningModel } from './joining-node.ts';
import type { DesiredModel, Plan } from './planner.ts';
import type { VersionPlacement } from './version-placement.ts';
import { checkK, toQueryLatLng, type QueryLocation } from './query.ts';
import type { RandomSource } from './random.ts';
import type { Candidate, ScoredCandidate } from './scoring.ts';
import { TrustBook } from './trust.ts';
import { ProbationCap } from './probation-cap.ts';
import {
  MAX_ELIGIBILITY_CHECKS,
  rankCandidatePool,
  type CandidateQuery,
  type PoolEntry,
} from './candidate-pool.ts';
import type { IndexedNode } from './nearest-search.ts';
import { Eligibility } from './eligibility.ts';
import { CandidateSearch } from './candidate-search.ts';
import { ModelPlanBook } from './model-plan-book.ts';

export type { Candidate, ScoredCandidate } from './scoring.ts';
// The candidate pool, its constants and the plan's TTL live in their own files; other modules and
// the Worker shards import them from here.
export {
  CANDIDATE_POOL_SIZE,
  DEFAULT_FAILOVER_LENGTH,
  MAX_ELIGIBILITY_CHECKS,
  rankCandidatePool,
  type CandidateQuery,
  type InFlightCounts,
  type PoolEntry,
} from './candidate-pool.ts';
export { PLAN_TTL_MS } from './model-plan-book.ts';
export type { PlacementOptions } from './placement-options.ts';

/** One node call as the gateway saw it (Placement.reportOutcome; the Worker's shards take the same). */
export interface CallOutcome {
  nodeId: string;
  model: string;
  latencyMs: number;
  ok: boolean;
  overloaded?: boolean;
}

/** Placement: the node registry plus the spatial index that answers "who is nearest and able", and scoring. */
export class Placement {
  readonly registry: NodeRegistry;
  readonly #index = new NodeIndex<IndexedNode>();
  /** Who announces which model and artifact: unknown or rarely held ones cost O(holders), not a walk over every node. */
  readonly #holders = new ModelHolders();
  readonly #trust: TrustBook;
  readonly #probation: ProbationCap;
  readonly #serviceTimes = new ServiceTimes();
  readonly #health = new NodeHealthBook();
  readonly #demand: DemandWindow;
  readonly #now: () => number;
  readonly #random: RandomSource;
  /** The nearest eligible nodes for a request, with the figures they are ranked by (candidate-search.ts). */
  readonly #search: CandidateSearch;
  /** The model plan and the rollouts' version placements (model-plan-book.ts). */
  readonly #plans: ModelPlanBook;

  constructor(options: PlacementOptions) {
    const store = options.store ?? new MemoryNodeStore();
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#trust = new TrustBook(store);
    const probation = new ProbationCap({
      max: options.maxProbationNodes ?? Infinity,
      ...(options.probationLimitName ? { limitName: options.probationLimitName } : {}),
    });
    this.#probation = probation;
    this.#demand = new DemandWindow({ store, now: this.#now });
    this.registry = new NodeRegistry({
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      now: this.#now,
      store,
      assumeLocationsVerified: options.assumeLocationsVerified ?? false,
      ...(options.admit ? { admit: options.admit } : {}),
      admitNewNode: ({ nodeId, source, returning }) =>
        probation.admitNew(nodeId, {
          onProbation: this.#trust.isOnProbation(nodeId),
          ...(source !== undefined ? { source } : {}),
          ...(returning ? { returning } : {}),
        }),
      ...(options.onEvictedForRoom ? { onEvictedForRoom: options.onEvictedForRoom } : {}),
      onChange: (node) => {
        probation.noteNode(node.id, this.#trust.isOnProbation(node.id), node.admittedFrom);
        this.#index.upsert({ id: node.id, lat: node.location.lat, lng: node.location.lng, node });
        this.#holders.upsert(node);
      },
      onRemove: (nodeId) => {
        probation.forget(nodeId);
        this.#index.remove(nodeId);
        this.#holders.remove(nodeId);
        this.#serviceTimes.forgetNode(nodeId);
        this.#health.forgetNode(nodeId);
      },
    });
    this.#search = new CandidateSearch({
      index: this.#index,
      holders: this.#holders,
      demand: this.#demand,
      eligibility: new Eligibility({
        registry: this.registry,
        health: this.#health,
        trust: this.#trust,
        now: this.#now,
      }),
      serviceTimes: this.#serviceTimes,
      trust: this.#trust,
      health: this.#health,
      now: this.#now,
      maxEligibilityChecks: options.maxEligibilityChecks ?? MAX_ELIGIBILITY_CHECKS,
    });
    this.#plans = new ModelPlanBook({
      registry: this.registry,
      index: this.#index,
      demand: this.#demand,
      now: this.#now,
    });
  }

  /**
   * Nearest healthy nodes to a point, optionally only those serving a model (ready) or holding an
   * artifact (`contentId`, ready).
   */
  nearest(query: {
    location: QueryLocation;
    k: number;
    model?: string;
    version?: string;
    contentId?: string;
    filter?: (node: NodeRecord) => boolean;
  }): Candidate[] {
    const k = checkK(query.k);
    const location = toQueryLatLng(query.location);
    return nearestNodes(
      {
        index: this.#index,
        holders: this.#holders,
        isHealthy: (node) => this.registry.statusOf(node) === 'healthy',
      },
      { ...query, location, k },
    );
  }

  /**
   * Every registered node within `radiusKm` of a point, whatever its status, nearest first (ties by
   * id): a map's hex is answered from the nodes around it, not by a walk over the whole registry.
   * `limit`: at most that many, the nearest (a public answer's rows); `filter`: only nodes it accepts,
   * applied during the search so the limit counts accepted ones.
   */
  nodesWithin(query: {
    location: LatLng;
    radiusKm: number;
    limit?: number;
    filter?: (node: NodeRecord) => boolean;
  }): Candidate[] {
    return nodesWithin(this.#index, query);
  }

  /**
   * The ordered failover list for a request: eligible nodes (healthy, serving the model, inside the
   * policy's region and trust), ranked by predicted latency, price and trust — a model that prefers an
   * accelerator ranks CPU nodes after accelerated ones but still runs on them when none is free —
   * first place by power-of-two-choices. Counts the request as demand for the planner.
   */
  candidates(query: CandidateQuery): ScoredCandidate[] {
    const { k, policy, pool } = this.#search.pool(query, true);
    return rankCandidatePool(pool, {
      k,
      policy,
      random: this.#random,
      ...(query.inFlight ? { inFlight: query.inFlight } : {}),
    });
  }

  /**
   * The first half of candidates(): the max(k, CANDIDATE_POOL_SIZE) nearest eligible nodes with the
   * figures they are ranked by, nearest first (ties by id). A sharded deployment merges the pools of
   * several shards by distance, cuts the merged list to the same size and ranks it with
   * rankCandidatePool, which gives the single-process answer. `recordDemand: false` for every shard
   * but the query's own, so a request counts once.
   */
  candidatePool(query: CandidateQuery, options: { recordDemand?: boolean } = {}): PoolEntry[] {
    return this.#search.pool(query, options.recordDemand !== false).pool;
  }

  /** True when any registered node (healthy or not) has announced this model. */
  isKnownModel(model: string, version?: string): boolean {
    return this.#holders.ofModel(model, version) !== undefined;
  }

  /**
   * The gateway reports every node call, so Peak-EWMA tracks what clients see; a failure counts as very
   * slow, raises the node's error rate and, in a streak, opens its circuit (NodeHealthBook).
   * `overloaded`: the node refused for backpressure (503 OVERLOADED), which never trips the breaker.
   */
  reportOutcome(outcome: CallOutcome): void {
    const { nodeId, model, latencyMs, ok } = outcome;
    if (
      !(typeof latencyMs === 'number' && latencyMs >= 0 && latencyMs < Infinity) ||
      typeof ok !== 'boolean'
    ) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `outcome needs latencyMs ≥ 0 and ok: boolean, got ${String(latencyMs)}, ${String(ok)}`,
      );
    }
    const node = this.registry.get(nodeId);
    if (!node) return; // evicted meanwhile: nothing to learn
    const reportedMs = node.models.find((m) => m.name === model)?.load?.ewmaServiceMs;
    this.#serviceTimes.record({ nodeId, model, latencyMs, ok, nowMs: this.#now(), reportedMs });
    this.#health.record({
      nodeId,
      ok,
      ...(outcome.overloaded ? { overloaded: true } : {}),
      nowMs: this.#now(),
    });
  }

  /** Whether the node's circuit is open (it failed BREAKER_FAILURE_STREAK calls in a row): it gets no request. */
  isCircuitOpen(nodeId: string): boolean {
    return this.#health.isOpen(nodeId, this.#now());
  }

  /** The oracle's trust score for a node (0–1). Ends the node's probation. */
  setTrust(nodeId: string, score: number, reasons?: string[]): TrustRecord {
    const record = this.#trust.set({ nodeId, score, ...(reasons ? { reasons } : {}), nowMs: this.#now() });
    this.#probation.forget(nodeId);
    return record;
  }

  /** Registered nodes on probation now (counted against `maxProbationNodes`). */
  get probationNodeCount(): number {
    return this.#probation.count;
  }

  getTrust(nodeId: string): { score: number; probation: boolean; reasons: string[] } {
    const record = this.#trust.get(nodeId);
    return { score: this.#trust.scoreOf(nodeId), probation: !record, reasons: record?.reasons ?? [] };
  }

  /** The oracle re-verified the node's location. */
  markLocationVerified(nodeId: string): NodeRecord {
    return this.registry.markLocationVerified(nodeId);
  }

  /** The oracle found the node's current claim not verified. */
  markLocationUnverified(nodeId: string): NodeRecord {
    return this.registry.markLocationUnverified(nodeId);
  }

  /** Counts a request for the planner without placing it (candidates() already counts its own). */
  recordDemand(demand: { location: QueryLocation; model: string; version?: string }): void {
    const location = toQueryLatLng(demand.location);
    this.#demand.record({
      location,
      model: demand.model,
      ...(demand.version !== undefined ? { version: demand.version } : {}),
    });
  }

  /** The models a node should hold, for its heartbeat answer. */
  desiredModels(nodeId: string): DesiredModel[] {
    const node = this.registry.get(nodeId);
    if (!node) throw new HexEdgeError('UNKNOWN_NODE', `no registered node ${JSON.stringify(nodeId)}`);
    return (
      this.#plans.plan().desired.get(nodeId) ??
      node.models.map(({ name, version, contentId }) => ({ name, version, contentId }))
    );
  }

  /** What a node about to join at `location` should pull first (see modelsForJoiningNode). */
  modelsForJoiningNode(options: {
    location: LatLng;
    hardware: Pick<Hardware, 'memoryMb' | 'executionProviders'>;
    catalogue: readonly ModelManifest[];
  }): JoiningModel[] {
    return this.#plans.modelsForJoiningNode(options);
  }

  /** The current model plan with its reasons and shortfalls (recomputed at most every PLAN_TTL_MS). */
  plan(): Plan {
    return this.#plans.plan();
  }

  /**
   * Rollouts' model versions (the gateway's RolloutManager): canaries on a bounded share of the
   * model's holders, promoted versions on all of them, withdrawn ones on none. Re-plans at once.
   */
  setVersionPlacements(specs: readonly VersionPlacement[]): void {
    this.#plans.setVersionPlacements(specs);
  }

  /** Forgets nodes silent past the eviction age; the composition root calls it on a timer. */
  evictSilent(): string[] {
    return this.registry.evictSilent();
  }

  /** Writes the in-progress demand bucket (call at shutdown). */
  checkpoint(): void {
    this.#demand.checkpoint();
  }
}
