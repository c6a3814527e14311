import {
  HexEdgeError,
  parseWith,
  signedHeartbeatSchema,
  signedRegistrationSchema,
  toLatLng,
  type NodeAck,
  type TrustScoreEntry,
} from '@hexedge/protocol';
import { maxDistanceKmForRttMs } from '../latency.ts';
import type { NodeRecord, NodeStatus } from '../node-record.ts';
import type { TrustRecord } from '../node-store.ts';
import {
  CANDIDATE_POOL_SIZE,
  DEFAULT_FAILOVER_LENGTH,
  rankCandidatePool,
  type CallOutcome,
  type CandidateQuery,
} from '../placement.ts';
import { checkK, checkPolicy, toQueryLatLng, type QueryLocation } from '../query.ts';
import type { RandomSource } from '../random.ts';
import type { Candidate, ScoredCandidate } from '../scoring.ts';
import type { TrustApplied } from '../trust-entries.ts';
import { shardCellOf } from './shard-geometry.ts';
import { ShardLocator } from './shard-locator.ts';
import { directoryBucketName, modelKey, unwrap, type DirectoryApi, type ShardApi } from './shard-protocol.ts';
import { searchShards, type ShardSearchStats } from './shard-search.ts';

export type { ShardSearchStats } from './shard-search.ts';

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

/**
 * Placement over H3-sharded Durable Objects, with the gateway's placement port. Registration and
 * heartbeats go to the node's shard; a query visits the shards holding eligible nodes in order of
 * their lower-bound distance (0 for the query's own cell, otherwise the distance to the cell's edge
 * arcs) and stops once the k-th best distance so far is below the bound of every unvisited shard, so
 * the merged answer is the single-process index's answer: same nodes, order and distances.
 */
export class ShardedPlacement {
  readonly #network: ShardNetwork;
  readonly #random: RandomSource;
  readonly #locator: ShardLocator;
  readonly stats: ShardSearchStats = { queries: 0, multiShardQueries: 0, shardVisits: 0 };

  constructor(options: ShardedPlacementOptions) {
    this.#network = options.network;
    this.#random = options.random ?? Math.random;
    this.#locator = new ShardLocator({
      network: options.network,
      mapTtlMs: options.mapTtlMs ?? DEFAULT_SHARD_MAP_TTL_MS,
      now: options.now ?? Date.now,
    });
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
    this.#locator.route(body.nodeId, home);
    this.#locator.invalidateMap();
    return ack;
  }

  async heartbeat(message: unknown): Promise<NodeAck> {
    const { body } = parseWith(signedHeartbeatSchema, message, { what: 'heartbeat' });
    const cached = this.#locator.cached(body.nodeId);
    const cell = cached ?? (await this.#locator.lookup(body.nodeId));
    if (!cell) throw new HexEdgeError('UNKNOWN_NODE', `heartbeat from unregistered node ${body.nodeId}`);
    const result = await this.#network.shard(cell).heartbeat(message, cell);
    if (!result.ok && result.error.code === 'UNKNOWN_NODE' && cached !== undefined) {
      // The node moved (through another isolate) since this one cached its shard.
      this.#locator.forget(body.nodeId);
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
    const map = await this.#locator.shardMap();
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
    return searchShards(
      {
        location,
        limit: k,
        maxDistanceKm: Infinity,
        cells,
        visit: async (cell) => unwrap(await this.#network.shard(cell).nearest(shardQuery)),
      },
      this.stats,
    );
  }

  /** The failover list, as Placement.candidates computes it on one machine. */
  async candidates(query: CandidateQuery): Promise<ScoredCandidate[]> {
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
    const map = await this.#locator.shardMap();
    const cells = [...(map.byModel.get(version === undefined ? model : modelKey(model, version)) ?? [])];
    const shardQuery = {
      location,
      model,
      k,
      ...(version !== undefined ? { version } : {}),
      ...(query.policy ? { policy: query.policy } : {}),
    };
    const home = shardCellOf(location);
    const pool = await searchShards(
      {
        location,
        limit: Math.max(k, CANDIDATE_POOL_SIZE),
        maxDistanceKm: Number.isFinite(boundMs) ? maxDistanceKmForRttMs(boundMs) : Infinity,
        cells,
        // The query's own shard counts the request as demand, once.
        visit: async (cell) =>
          unwrap(await this.#network.shard(cell).candidatePool(shardQuery, { recordDemand: cell === home })),
      },
      this.stats,
    );
    for (const c of pool) this.#locator.route(c.node.id, shardCellOf(c.node.location));
    return rankCandidatePool(pool, {
      k,
      policy,
      random: this.#random,
      ...(query.inFlight ? { inFlight: query.inFlight } : {}),
    });
  }

  async isKnownModel(model: string, version?: string): Promise<boolean> {
    return (await this.#locator.shardMap()).byModel.has(
      version === undefined ? model : modelKey(model, version),
    );
  }

  async reportOutcome(outcome: CallOutcome): Promise<void> {
    const cell = this.#locator.cached(outcome.nodeId) ?? (await this.#locator.lookup(outcome.nodeId));
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
    const cell = await this.#locator.lookup(id);
    return (cell && (await this.#network.shard(cell).getNode(id))) || undefined;
  }

  async healthyNodes(): Promise<NodeRecord[]> {
    const map = await this.#locator.shardMap();
    return (await Promise.all(map.cells.map((cell) => this.#network.shard(cell).healthyNodes()))).flat();
  }

  /** The oracle's verdicts, routed to the node's shard. */
  async setTrust(nodeId: string, score: number, reasons?: string[]): Promise<TrustRecord> {
    const cell = await this.#locator.lookup(nodeId);
    if (!cell) throw new HexEdgeError('UNKNOWN_NODE', `no registered node ${JSON.stringify(nodeId)}`);
    return unwrap(await this.#network.shard(cell).setTrust(nodeId, score, reasons));
  }

  async markLocationVerified(nodeId: string): Promise<NodeRecord> {
    const cell = await this.#locator.lookup(nodeId);
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
    if (options.refresh) this.#locator.invalidateMap();
    return (await this.#locator.shardMap()).cells;
  }
}
