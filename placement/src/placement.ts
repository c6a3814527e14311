import {
  HexEdgeError,
  type Hardware,
  type LatLng,
  type ModelManifest,
  type NodeModel,
  type PlacementPolicy,
} from '@hexedge/protocol';
import { DemandWindow, DEMAND_WINDOW_MS, type DemandTotal } from './demand.ts';
import { coldLoadMs, maxDistanceKmForRttMs, networkRttMs, queueWaitMs } from './latency.ts';
import { NodeIndex, type Neighbour } from './node-index.ts';
import { HOLDER_SCAN_FACTOR, ModelHolders, nearestAmong } from './model-holders.ts';
import { findModel, meetsAcceleratorNeed, servesModel, type NodeRecord } from './node-record.ts';
import { NodeRegistry, type NodeRegistryOptions } from './node-registry.ts';
import { MemoryNodeStore, type NodeStore, type TrustRecord } from './node-store.ts';
import { NodeHealthBook } from './node-health.ts';
import { ServiceTimes } from './peak-ewma.ts';
import { joiningReachKm, modelsForJoiningNode, type JoiningModel } from './joining-node.ts';
import { DemandNear } from './demand-near.ts';
import { planModelPlacement, type DesiredModel, type Plan } from './planner.ts';
import { applyVersionPlacements, type VersionPlacement } from './version-placement.ts';
import { checkK, checkPolicy, toQueryLatLng, type CheckedPolicy, type QueryLocation } from './query.ts';
import type { RandomSource } from './random.ts';
import { scoreCandidates, type Candidate, type ScoredCandidate } from './scoring.ts';
import { orderFailover } from './selection.ts';
import { TrustBook, TRUST_FLOOR } from './trust.ts';
import { ProbationCap } from './probation-cap.ts';

export type { Candidate, ScoredCandidate } from './scoring.ts';

export interface PlacementOptions {
  heartbeatIntervalMs: number;
  now?: () => number;
  /** Durable registry, trust and demand; restored at construction. Default: memory only. */
  store?: NodeStore;
  /** Uniform [0, 1) source for power-of-two-choices and probation; seed it in tests. */
  random?: RandomSource;
  /** Treat claimed locations as verified (no coverage oracle, e.g. `hexedge dev`). Default false. */
  assumeLocationsVerified?: boolean;
  /** Per-node admission of signed messages before they are written (the gateway's rate limits); see NodeRegistryOptions. */
  admit?: NodeRegistryOptions['admit'];
  /** Eligibility checks per request's pool (default MAX_ELIGIBILITY_CHECKS; Infinity in reference tests). */
  maxEligibilityChecks?: number;
  /**
   * Registered nodes on probation (no oracle score yet) kept at most; a new one past it is refused
   * with OVERLOADED (probation-cap.ts). Default: no cap (the gateway's config sets one).
   */
  maxProbationNodes?: number;
  /** Called after a probation node was evicted to make room for a newcomer (the Worker's shards clear its directory entry). */
  onEvictedForRoom?: (nodeId: string) => void;
}

export interface CandidateQuery {
  location: QueryLocation;
  model: string;
  version?: string;
  /** Length of the failover list. */
  k?: number;
  policy?: PlacementPolicy;
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
/** The model plan is recomputed at most this often (heartbeats ask for it every interval). */
export const PLAN_TTL_MS = 30_000;
/** The planner looks at no more than this many nodes around a demand hex. */
const PLANNER_NEAR_LIMIT = 32;

interface IndexedNode {
  id: string;
  lat: number;
  lng: number;
  node: NodeRecord;
}

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

/** The second half of candidates(): drops nodes past the policy's latency bounds, scores, orders. */
export function rankCandidatePool(
  pool: PoolEntry[],
  options: { k: number; policy: CheckedPolicy; random: RandomSource },
): ScoredCandidate[] {
  const { policy } = options;
  const scorable = [];
  for (const { runMs, ...entry } of pool) {
    if (
      runMs > (policy.maxLatencyMs ?? Infinity) ||
      entry.predictedLatencyMs > (policy.deadlineMs ?? Infinity)
    )
      continue;
    scorable.push(entry);
  }
  return orderFailover(scoreCandidates(scorable, policy.prefer), { k: options.k, random: options.random });
}

/** The plan, when it was made, and the demand it was made from (grouped by hex on first use by a joining node's question). */
interface Planned {
  plan: Plan;
  atMs: number;
  demand: DemandTotal[];
  near?: DemandNear;
}

type HolderSet = ReadonlySet<string> | undefined | 'all';
/** The smaller of two restrictions every answer must meet (undefined: nobody holds it; 'all': no restriction). */
const narrower = (a: HolderSet, b: HolderSet): HolderSet =>
  a === undefined || b === undefined ? undefined : a === 'all' ? b : b === 'all' ? a : a.size <= b.size ? a : b;

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
  readonly #maxEligibilityChecks: number;
  /** The plan and the demand it was made from (grouped by hex on first use by a joining node's question). */
  #plan: Planned | undefined;
  #versionPlacements: readonly VersionPlacement[] = [];

  constructor(options: PlacementOptions) {
    const store = options.store ?? new MemoryNodeStore();
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#maxEligibilityChecks = options.maxEligibilityChecks ?? MAX_ELIGIBILITY_CHECKS;
    this.#trust = new TrustBook(store);
    const probation = new ProbationCap({ max: options.maxProbationNodes ?? Infinity });
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
        probation.noteNode(node.id, this.#trust.isOnProbation(node.id));
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
    const { model, version, contentId, filter } = query;
    const byModel = model ? this.#holders.ofModel(model, version) : 'all';
    const byContent = contentId !== undefined ? this.#holders.ofReadyContent(contentId) : 'all';
    return this.#nearestOf({
      location,
      k,
      holders: narrower(byModel, byContent),
      accept: (node) =>
        this.registry.statusOf(node) === 'healthy' &&
        (!model || servesModel(node, model, version) !== undefined) &&
        (contentId === undefined || node.models.some((m) => m.contentId === contentId && m.ready)) &&
        (!filter || filter(node)),
    }).map(({ id, distanceKm }) => ({ node: this.#index.get(id)!.node, distanceKm }));
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
    const { location, radiusKm, filter } = query;
    if (!(radiusKm >= 0))
      throw new HexEdgeError('INVALID_REQUEST', `radiusKm must be a non-negative number, got ${radiusKm}`);
    return this.#index
      .nearest({
        ...location,
        k: query.limit ?? Infinity,
        maxDistanceKm: radiusKm,
        ...(filter ? { filter: (p: IndexedNode) => filter(p.node) } : {}),
      })
      .map(({ id, distanceKm }) => ({ node: this.#index.get(id)!.node, distanceKm }));
  }

  /**
   * The spatial index's nearest search, or, when every answer must come from a set of holders that is
   * small next to the index, a direct scan of those holders (same answer; see HOLDER_SCAN_FACTOR).
   * `holders` undefined: nobody holds what is asked for.
   */
  #nearestOf(q: {
    location: LatLng;
    k: number;
    maxDistanceKm?: number;
    holders: HolderSet;
    accept: (node: NodeRecord) => boolean;
    /** At most this many `accept` calls, nearest first (default: no limit). */
    maxAcceptCalls?: number;
  }): Neighbour[] {
    const { holders, accept } = q;
    if (holders === undefined) return [];
    if (holders !== 'all' && holders.size * HOLDER_SCAN_FACTOR <= this.#index.size) {
      return nearestAmong({
        ids: holders,
        nodeOf: (id) => this.#index.get(id)?.node,
        at: q.location,
        limit: q.k,
        ...(q.maxDistanceKm !== undefined ? { maxDistanceKm: q.maxDistanceKm } : {}),
        accept,
        ...(q.maxAcceptCalls !== undefined ? { maxAcceptCalls: q.maxAcceptCalls } : {}),
      });
    }
    return this.#index.nearest({
      ...q.location,
      k: q.k,
      ...(q.maxDistanceKm !== undefined ? { maxDistanceKm: q.maxDistanceKm } : {}),
      filter: (p) => accept(p.node),
      ...(q.maxAcceptCalls !== undefined ? { maxFilterCalls: q.maxAcceptCalls } : {}),
    });
  }

  /**
   * The ordered failover list for a request: eligible nodes (healthy, serving the model, inside the
   * policy's region and trust), ranked by predicted latency, price and trust — a model that prefers an
   * accelerator ranks CPU nodes after accelerated ones but still runs on them when none is free —
   * first place by power-of-two-choices. Counts the request as demand for the planner.
   */
  candidates(query: CandidateQuery): ScoredCandidate[] {
    const { k, policy, pool } = this.#pool(query, true);
    return rankCandidatePool(pool, { k, policy, random: this.#random });
  }

  /**
   * The first half of candidates(): the max(k, CANDIDATE_POOL_SIZE) nearest eligible nodes with the
   * figures they are ranked by, nearest first (ties by id). A sharded deployment merges the pools of
   * several shards by distance, cuts the merged list to the same size and ranks it with
   * rankCandidatePool, which gives the single-process answer. `recordDemand: false` for every shard
   * but the query's own, so a request counts once.
   */
  candidatePool(query: CandidateQuery, options: { recordDemand?: boolean } = {}): PoolEntry[] {
    return this.#pool(query, options.recordDemand !== false).pool;
  }

  #pool(
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
      accept: (node: NodeRecord) => this.#isEligible(node, { model, version, policy }),
    };
    let pool = this.#nearestOf({ ...search, maxAcceptCalls: this.#maxEligibilityChecks });
    // Nothing eligible among the nodes the budget reached: search on, unbounded, rather than refuse a
    // request a full search answers. Free identities crowding a caller (more probation nodes than the
    // budget, all nearer than any eligible one) then cost the full search they cost before the budget,
    // never a refusal; a request that finds anyone within the budget stays bounded.
    if (pool.length === 0) pool = this.#nearestOf(search);
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

  /** True when any registered node (healthy or not) has announced this model. */
  isKnownModel(model: string, version?: string): boolean {
    return this.#holders.ofModel(model, version) !== undefined;
  }

  /**
   * The gateway reports every node call, so Peak-EWMA tracks what clients see; a failure counts as very
   * slow, raises the node's error rate and, in a streak, opens its circuit (NodeHealthBook).
   * `overloaded`: the node refused for backpressure (503 OVERLOADED), which never trips the breaker.
   */
  reportOutcome(outcome: { nodeId: string; model: string; latencyMs: number; ok: boolean; overloaded?: boolean }): void {
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
    this.#health.record({ nodeId, ok, ...(outcome.overloaded ? { overloaded: true } : {}), nowMs: this.#now() });
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
      this.plan().desired.get(nodeId) ??
      node.models.map(({ name, version, contentId }) => ({ name, version, contentId }))
    );
  }

  /** What a node about to join at `location` should pull first (see modelsForJoiningNode). */
  modelsForJoiningNode(options: {
    location: LatLng;
    hardware: Pick<Hardware, 'memoryMb' | 'executionProviders'>;
    catalogue: readonly ModelManifest[];
  }): JoiningModel[] {
    // A joining node pulls no canary (its share is chosen among holders) and no withdrawn version.
    const held = new Set(
      this.#versionPlacements.filter((v) => v.stage !== 'promoted').map((v) => `${v.model}\u0000${v.version}`),
    );
    // Demand as of the plan (at most PLAN_TTL_MS old, like its shortfalls), only the hexes within reach:
    // the question is public, and the whole window's rows re-summed per question cost O(history).
    const planned = this.#planned();
    planned.near ??= new DemandNear(planned.demand);
    return modelsForJoiningNode({
      ...options,
      catalogue: options.catalogue.filter((m) => !held.has(`${m.name}\u0000${m.version}`)),
      shortfalls: planned.plan.shortfalls,
      demand: planned.near.near(options.location, joiningReachKm()),
    });
  }

  /** The current model plan with its reasons and shortfalls (recomputed at most every PLAN_TTL_MS). */
  plan(): Plan {
    return this.#planned().plan;
  }

  #planned(): Planned {
    const nowMs = this.#now();
    if (this.#plan && nowMs - this.#plan.atMs < PLAN_TTL_MS) return this.#plan;
    const usable = (node: NodeRecord) => this.registry.statusOf(node) === 'healthy';
    const demand = this.#demand.totals();
    const plan = planModelPlacement({
      demand,
      windowMs: DEMAND_WINDOW_MS,
      nodes: [...this.registry.values()].filter(usable),
      nodesNear: (at: LatLng, maxDistanceKm: number) =>
        this.#index
          .nearest({ ...at, k: PLANNER_NEAR_LIMIT, maxDistanceKm, filter: (p) => usable(p.node) })
          .map(({ id }) => this.#index.get(id)!.node),
    });
    applyVersionPlacements({ desired: plan.desired, nodes: [...this.registry.values()].filter(usable), specs: this.#versionPlacements });
    this.#plan = { plan, atMs: nowMs, demand };
    return this.#plan;
  }

  /**
   * Rollouts' model versions (the gateway's RolloutManager): canaries on a bounded share of the
   * model's holders, promoted versions on all of them, withdrawn ones on none. Re-plans at once.
   */
  setVersionPlacements(specs: readonly VersionPlacement[]): void {
    this.#versionPlacements = [...specs];
    this.#plan = undefined;
  }

  /** Forgets nodes silent past the eviction age; the composition root calls it on a timer. */
  evictSilent(): string[] {
    return this.registry.evictSilent();
  }

  /** Writes the in-progress demand bucket (call at shutdown). */
  checkpoint(): void {
    this.#demand.checkpoint();
  }

  #isEligible(
    node: NodeRecord,
    q: { model: string; version: string | undefined; policy: CheckedPolicy },
  ): boolean {
    if (this.registry.statusOf(node) !== 'healthy') return false;
    // Failed its last calls in a row (or a probe after that): off every list until the circuit half-opens.
    if (this.#health.isOpen(node.id, this.#now())) return false;
    const entry = findModel(node, q.model, q.version);
    // A node still loading the model can serve only a request whose deadline covers the load.
    if (!entry || (!entry.ready && q.policy.deadlineMs === undefined)) return false;
    const { regionId, minTrust } = q.policy;
    // The oracle caught this node (fraud, failed proofs): routed to by no request.
    const trust = this.#trust.scoreOf(node.id);
    if (!this.#trust.isOnProbation(node.id) && trust < TRUST_FLOOR) return false;
    if ((regionId !== undefined || minTrust !== undefined) && !node.locationVerified) return false;
    if (regionId !== undefined && !node.regions.includes(regionId)) return false;
    // A node on probation has unknown trust, not the default: it meets no minimum.
    return minTrust === undefined || (!this.#trust.isOnProbation(node.id) && trust >= minTrust);
  }
}
