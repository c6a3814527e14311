import {
  HexEdgeError,
  parseWith,
  signedHeartbeatSchema,
  signedRegistrationSchema,
  toLatLng,
  type LatLng,
  type NodeAck,
  type PlacementPolicy,
  type TrustScoreEntry,
} from '@hexedge/protocol';
import { maxDistanceKmForRttMs } from '../latency.ts';
import type { NodeRecord, NodeStatus } from '../node-record.ts';
import type { TrustRecord } from '../node-store.ts';
import {
  CANDIDATE_POOL_SIZE,
  DEFAULT_FAILOVER_LENGTH,
  rankCandidatePool,
  type InFlightCounts,
} from '../placement.ts';
import { checkK, checkPolicy, toQueryLatLng, type QueryLocation } from '../query.ts';
import type { RandomSource } from '../random.ts';
import type { Candidate, ScoredCandidate } from '../scoring.ts';
import type { TrustApplied } from '../trust-entries.ts';
import { minDistanceToCellKm, shardCellOf } from './shard-geometry.ts';
import {
  directoryBucketName,
  DIRECTORY_MAP_NAME,
  modelKey,
  unwrap,
  type DirectoryApi,
  type ShardApi,
  type ShardSummary,
} from './shard-protocol.ts';

/** How the coordinator reaches shards and the directory (Durable Object stubs in the Worker). */
export interface ShardNetwork {
  shard(cell: string): ShardApi;
  directory(name: string): DirectoryApi;
}

export interface ShardedPlacementOptions {
  network: ShardNetwork;
  /**
   * How long the shard map is reused, ms. Changes made through this coordinator refresh it at once; a
   * node registered through another isolate becomes visible to this one's queries within this time.
   */
  mapTtlMs?: number;
  random?: RandomSource;
  now?: () => number;
}

export const DEFAULT_SHARD_MAP_TTL_MS = 1000;
/** Node id → shard entries kept per isolate (heartbeats skip the directory on a hit). */
const ROUTE_CACHE_LIMIT = 100_000;

interface ShardMap {
  atMs: number;
  cells: string[];
  byModel: Map<string, Set<string>>;
}

/** Queries answered and shards visited, since this coordinator started. */
export interface ShardSearchStats {
  queries: number;
  multiShardQueries: number;
  shardVisits: number;
}

/**
 * Placement over H3-sharded Durable Objects, with the gateway's placement port. Registration and
 * heartbeats go to the node's shard; a query visits the shards holding eligible nodes in order of
 * their lower-bound distance (0 for the query's own cell, otherwise the distance to the cell's edge
 * arcs) and stops once the k-th best distance so far is below the bound of every unvisited shard, so
 * the merged answer is the single-process index's answer: same nodes, order and distances.
 */
export class ShardedPlacement {
  readonly #network: ShardNetwork;
  readonly #mapTtlMs: number;
  readonly #random: RandomSource;
  readonly #now: () => number;
  readonly #routes = new Map<string, string>();
  #map: ShardMap | undefined;
  readonly stats: ShardSearchStats = { queries: 0, multiShardQueries: 0, shardVisits: 0 };

  constructor(options: ShardedPlacementOptions) {
    this.#network = options.network;
    this.#mapTtlMs = options.mapTtlMs ?? DEFAULT_SHARD_MAP_TTL_MS;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /**
   * `options.source`: the client source (IPv4 address or IPv6 /48) the registration came from. Each
   * shard caps its nodes on probation and shares a full cap between sources (ProbationCap), deciding
   * and evicting within itself, so a refusal evicts nobody and an eviction is never half-made.
   */
  async register(message: unknown, options: { source?: string } = {}): Promise<NodeAck> {
    const { body } = parseWith(signedRegistrationSchema, message, { what: 'registration' });
    const location = toLatLng(body.location, 'location');
    const bucket = this.#network.directory(directoryBucketName(body.nodeId));
    const previous = await bucket.lookup(body.nodeId);
    const from = options.source !== undefined ? { source: options.source } : {};
    // A known node registers where its record is (its replay and move history live there).
    let target = previous ?? shardCellOf(location);
    let outcome = unwrap(await this.#network.shard(target).register(message, target, from));
    if (outcome.kind === 'elsewhere') {
      // The directory named a shard that no longer holds the node: it registers as new in its place's.
      target = outcome.toShard;
      outcome = unwrap(await this.#network.shard(target).register(message, target, from));
      if (outcome.kind === 'elsewhere')
        throw new HexEdgeError('INTERNAL', `shard ${target} sent node ${body.nodeId} elsewhere`);
    }
    let ack: NodeAck;
    let home = target;
    if (outcome.kind === 'moved') {
      home = outcome.toShard;
      const handOff = { record: outcome.record, trust: outcome.trust };
      const adopted = await this.#network.shard(home).adopt(handOff, home, from);
      if (!adopted.ok) {
        // Refused there (a full probation cap): the node goes back as it was, so nothing is half-applied.
        unwrap(
          await this.#network
            .shard(target)
            .adopt({ record: outcome.previous, trust: outcome.trust }, target, { ...from, returning: true }),
        );
      }
      ack = unwrap(adopted);
    } else {
      ack = outcome.ack;
    }
    if (home !== previous) await bucket.assign(body.nodeId, home);
    this.#route(body.nodeId, home);
    this.#map = undefined;
    return ack;
  }

  async heartbeat(message: unknown): Promise<NodeAck> {
    const { body } = parseWith(signedHeartbeatSchema, message, { what: 'heartbeat' });
    const cached = this.#routes.get(body.nodeId);
    const cell = cached ?? (await this.#lookup(body.nodeId));
    if (!cell) throw new HexEdgeError('UNKNOWN_NODE', `heartbeat from unregistered node ${body.nodeId}`);
    const result = await this.#network.shard(cell).heartbeat(message, cell);
    if (!result.ok && result.error.code === 'UNKNOWN_NODE' && cached !== undefined) {
      // The node moved (through another isolate) since this one cached its shard.
      this.#routes.delete(body.nodeId);
      return this.heartbeat(message);
    }
    return unwrap(result);
  }

  /** Healthy nodes nearest first, optionally serving a model or holding an artifact (ready). */
  async nearest(query: {
    location: QueryLocation;
    k: number;
    model?: string;
    version?: string;
    contentId?: string;
  }): Promise<Candidate[]> {
    const k = checkK(query.k);
    const location = toQueryLatLng(query.location);
    const { model, version, contentId } = query;
    const map = await this.#shardMap();
    const cells = model
      ? [...(map.byModel.get(version === undefined ? model : modelKey(model, version)) ?? [])]
      : map.cells;
    const shardQuery = {
      location,
      k,
      ...(model ? { model } : {}),
      ...(version !== undefined ? { version } : {}),
      ...(contentId !== undefined ? { contentId } : {}),
    };
    return this.#search({
      location,
      limit: k,
      maxDistanceKm: Infinity,
      cells,
      visit: async (cell) => unwrap(await this.#network.shard(cell).nearest(shardQuery)),
    });
  }

  /** The failover list, as Placement.candidates computes it on one machine. */
  async candidates(query: {
    location: QueryLocation;
    model: string;
    version?: string;
    k?: number;
    policy?: PlacementPolicy;
    inFlight?: InFlightCounts;
  }): Promise<ScoredCandidate[]> {
    const k = checkK(query.k ?? DEFAULT_FAILOVER_LENGTH);
    const location = toQueryLatLng(query.location);
    const policy = checkPolicy(query.policy);
    const { model, version } = query;
    if (typeof model !== 'string' || model === '')
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `model must be a non-empty string, got ${JSON.stringify(model)}`,
      );
    const boundMs = Math.min(policy.maxLatencyMs ?? Infinity, policy.deadlineMs ?? Infinity);
    const map = await this.#shardMap();
    const cells = [...(map.byModel.get(version === undefined ? model : modelKey(model, version)) ?? [])];
    const shardQuery = {
      location,
      model,
      k,
      ...(version !== undefined ? { version } : {}),
      ...(query.policy ? { policy: query.policy } : {}),
    };
    const home = shardCellOf(location);
    const pool = await this.#search({
      location,
      limit: Math.max(k, CANDIDATE_POOL_SIZE),
      maxDistanceKm: Number.isFinite(boundMs) ? maxDistanceKmForRttMs(boundMs) : Infinity,
      cells,
      // The query's own shard counts the request as demand, once.
      visit: async (cell) =>
        unwrap(await this.#network.shard(cell).candidatePool(shardQuery, { recordDemand: cell === home })),
    });
    for (const c of pool) this.#route(c.node.id, shardCellOf(c.node.location));
    return rankCandidatePool(pool, {
      k,
      policy,
      random: this.#random,
      ...(query.inFlight ? { inFlight: query.inFlight } : {}),
    });
  }

  async isKnownModel(model: string, version?: string): Promise<boolean> {
    return (await this.#shardMap()).byModel.has(version === undefined ? model : modelKey(model, version));
  }

  async reportOutcome(outcome: {
    nodeId: string;
    model: string;
    latencyMs: number;
    ok: boolean;
    overloaded?: boolean;
  }): Promise<void> {
    const cell = this.#routes.get(outcome.nodeId) ?? (await this.#lookup(outcome.nodeId));
    if (cell) unwrap(await this.#network.shard(cell).reportOutcome(outcome));
  }

  async getNode(id: string): Promise<
    | {
        node: NodeRecord;
        status: NodeStatus;
        trust?: { score: number; probation: boolean; reasons: string[] };
      }
    | undefined
  > {
    const cell = await this.#lookup(id);
    return (cell && (await this.#network.shard(cell).getNode(id))) || undefined;
  }

  async healthyNodes(): Promise<NodeRecord[]> {
    const map = await this.#shardMap();
    return (await Promise.all(map.cells.map((cell) => this.#network.shard(cell).healthyNodes()))).flat();
  }

  /** The oracle's verdicts, routed to the node's shard. */
  async setTrust(nodeId: string, score: number, reasons?: string[]): Promise<TrustRecord> {
    const cell = await this.#lookup(nodeId);
    if (!cell) throw new HexEdgeError('UNKNOWN_NODE', `no registered node ${JSON.stringify(nodeId)}`);
    return unwrap(await this.#network.shard(cell).setTrust(nodeId, score, reasons));
  }

  async markLocationVerified(nodeId: string): Promise<NodeRecord> {
    const cell = await this.#lookup(nodeId);
    if (!cell)
      throw new HexEdgeError(
        'UNKNOWN_NODE',
        `cannot verify the location of unregistered node ${JSON.stringify(nodeId)}`,
      );
    return unwrap(await this.#network.shard(cell).markLocationVerified(nodeId));
  }

  /**
   * A verified trust push's entries (the gateway's trust route checked its signature, age and seq),
   * each applied in its node's shard as the Node gateway applies them: one directory call per bucket
   * holding the push's nodes, one shard call per shard. Nodes no shard holds are ignored.
   */
  async applyTrust(
    scores: readonly TrustScoreEntry[],
    options: { assumeLocationsVerified: boolean },
  ): Promise<TrustApplied> {
    const byBucket = new Map<string, string[]>();
    for (const s of scores) {
      const bucket = directoryBucketName(s.nodeId);
      byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), s.nodeId]);
    }
    const cellOf = new Map<string, string | null>();
    await Promise.all(
      [...byBucket].map(async ([bucket, ids]) => {
        const cells = await this.#network.directory(bucket).lookupMany(ids);
        ids.forEach((id, i) => cellOf.set(id, cells[i] ?? null));
      }),
    );
    const byCell = new Map<string, TrustScoreEntry[]>();
    const ignored: string[] = [];
    for (const s of scores) {
      const cell = cellOf.get(s.nodeId);
      if (cell) byCell.set(cell, [...(byCell.get(cell) ?? []), s]);
      else ignored.push(s.nodeId);
    }
    const results = await Promise.all(
      [...byCell].map(async ([cell, entries]) =>
        unwrap(await this.#network.shard(cell).applyTrust(entries, options)),
      ),
    );
    return {
      applied: results.flatMap((r) => r.applied),
      ignored: [...ignored, ...results.flatMap((r) => r.ignored)],
    };
  }

  /** The shard map as this coordinator last read it (fresh when `refresh`). */
  async shards(options: { refresh?: boolean } = {}): Promise<string[]> {
    if (options.refresh) this.#map = undefined;
    return (await this.#shardMap()).cells;
  }

  async #search<T extends Candidate>(q: {
    location: LatLng;
    limit: number;
    maxDistanceKm: number;
    cells: string[];
    visit: (cell: string) => Promise<T[]>;
  }): Promise<T[]> {
    const home = shardCellOf(q.location);
    const order = q.cells
      .map((cell) => ({ cell, boundKm: cell === home ? 0 : minDistanceToCellKm(q.location, cell) }))
      .filter((s) => s.boundKm <= q.maxDistanceKm)
      .sort((a, b) => a.boundKm - b.boundKm);
    let merged: T[] = [];
    let next = 0;
    let batch = 1;
    while (next < order.length) {
      const kthKm = merged.length >= q.limit ? merged[q.limit - 1]!.distanceKm : Infinity;
      // ≤, not <: a node exactly at the k-th distance with a smaller id would still come first.
      if (order[next]!.boundKm > kthKm) break;
      let end = next + 1;
      if (kthKm === Infinity) {
        // Short of k answers: widen ring by ring, doubling, instead of asking every shard at once.
        end = Math.min(order.length, next + batch);
        batch *= 2;
      } else {
        while (end < order.length && order[end]!.boundKm <= kthKm) end++;
      }
      const answers = await Promise.all(order.slice(next, end).map((s) => q.visit(s.cell)));
      next = end;
      merged = merged
        .concat(...answers)
        .sort(byDistanceThenId)
        .slice(0, q.limit);
    }
    this.stats.queries++;
    this.stats.shardVisits += next;
    if (next > 1) this.stats.multiShardQueries++;
    return merged;
  }

  async #lookup(nodeId: string): Promise<string | null> {
    const cell = await this.#network.directory(directoryBucketName(nodeId)).lookup(nodeId);
    if (cell) this.#route(nodeId, cell);
    return cell;
  }

  #route(nodeId: string, cell: string): void {
    if (this.#routes.size >= ROUTE_CACHE_LIMIT && !this.#routes.has(nodeId))
      this.#routes.delete(this.#routes.keys().next().value!);
    this.#routes.set(nodeId, cell);
  }

  async #shardMap(): Promise<ShardMap> {
    if (this.#map && this.#now() - this.#map.atMs < this.#mapTtlMs) return this.#map;
    // Not shared as a pending promise: on Workers a request must not wait on another request's I/O.
    const summaries = await this.#network.directory(DIRECTORY_MAP_NAME).shardMap();
    return (this.#map = indexShardMap(summaries, this.#now()));
  }
}

function indexShardMap(summaries: ShardSummary[], atMs: number): ShardMap {
  const byModel = new Map<string, Set<string>>();
  const add = (key: string, cell: string) =>
    (byModel.get(key) ?? byModel.set(key, new Set()).get(key)!).add(cell);
  for (const s of summaries) {
    for (const key of s.models) {
      add(key, s.cell);
      add(key.slice(0, key.indexOf('\u0000')), s.cell);
    }
  }
  return { atMs, cells: summaries.map((s) => s.cell), byModel };
}

function byDistanceThenId(a: Candidate, b: Candidate): number {
  return a.distanceKm - b.distanceKm || (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0);
}
