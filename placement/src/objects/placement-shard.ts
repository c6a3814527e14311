import { DurableObject } from 'cloudflare:workers';
import {
  type TrustScoreEntry,
  HexEdgeError,
  parseWith,
  signedHeartbeatSchema,
  signedRegistrationSchema,
  toLatLng,
  type NodeAck,
} from '@hexedge/protocol';
import type { NodeRecord } from '../node-record.ts';
import type { TrustRecord } from '../node-store.ts';
import { Placement, type CallOutcome } from '../placement.ts';
import { applyTrustEntries, type TrustApplied } from '../trust-entries.ts';
import { DurableNodeStore } from './durable-node-store.ts';
import { PendingUnassigns } from './directory-cleanup.ts';
import { DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS, type PlacementShardEnv } from './shard-env.ts';
import { shardCellOf } from './shard-geometry.ts';
import { maxProbationNodesPerShardOf } from './shard-probation-cap.ts';
import {
  asResult,
  type AdoptOptions,
  type RegisterOptions,
  type RegisterOutcome,
  type ShardApi,
  type ShardNearestQuery,
  type ShardPoolQuery,
  type ShardResult,
} from './shard-protocol.ts';
import { ShardUpkeep } from './shard-upkeep.ts';

/**
 * One placement shard: the nodes whose res-2 H3 ancestor is this object's cell, with the same
 * `Placement` (registry, NodeIndex, trust, demand, planner) as the Node build, over this object's
 * SQLite storage. State is loaded inside blockConcurrencyWhile, so no call sees a half-loaded index;
 * an alarm evicts nodes that fell silent. The coordinator (ShardedPlacement) merges shards' answers.
 * This class is the RPC surface; the shard's cell, its reports to the shard map and the eviction
 * alarm are kept by ShardUpkeep (shard-upkeep.ts).
 */
export class PlacementShard extends DurableObject<PlacementShardEnv> implements ShardApi {
  #store!: DurableNodeStore;
  #placement!: Placement;
  #upkeep!: ShardUpkeep;

  constructor(ctx: DurableObjectState, env: PlacementShardEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#store = new DurableNodeStore(ctx.storage);
      const unassign = new PendingUnassigns(this.#store);
      const interval = Number(env.HEARTBEAT_INTERVAL_MS ?? DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS);
      this.#placement = new Placement({
        heartbeatIntervalMs: interval,
        store: this.#store,
        now: () => this.now(),
        assumeLocationsVerified: env.ASSUME_LOCATIONS_VERIFIED === 'true',
        admit: (message) => this.admit(message),
        // Each shard shares its own cap between sources (see gateway/README.md for why per shard).
        maxProbationNodes: maxProbationNodesPerShardOf(env),
        probationLimitName: 'MAX_PROBATION_NODES_PER_SHARD',
        onEvictedForRoom: (nodeId) => unassign.add(nodeId),
      });
      this.#upkeep = new ShardUpkeep({
        storage: ctx.storage,
        store: this.#store,
        placement: this.#placement,
        unassign,
        env,
        now: () => this.now(),
      });
      await this.#upkeep.loadAlarm();
    });
  }

  /**
   * The registry's `admit` hook: a message whose signature holds, before it is written; throws (e.g.
   * RATE_LIMITED) to refuse it. A node's messages all reach its shard, so per-node rates can be kept
   * here, in memory; the gateway's Worker subclasses this with its NodeMessageLimits. Admits all here.
   */
  protected admit(_message: { nodeId: string; kind: 'registration' | 'heartbeat' }): void {}

  /** The shard's clock (ms since the epoch); a test subclass shifts it to reach eviction ages. */
  protected now(): number {
    return Date.now();
  }

  /** `options.source`: the client source, which a full probation cap shares its slots between. */
  async register(
    message: unknown,
    shard: string,
    options: RegisterOptions = {},
  ): Promise<ShardResult<RegisterOutcome>> {
    return asResult(async () => {
      this.#upkeep.claim(shard);
      const { body } = parseWith(signedRegistrationSchema, message, { what: 'registration' });
      const previous = this.#placement.registry.get(body.nodeId);
      if (!previous) {
        // Not held here (the directory still named this shard): a newcomer registers in its own place's
        // shard, so nobody here is evicted for a node that would not stay.
        const place = shardCellOf(toLatLng(body.location, 'location'));
        if (place !== this.#upkeep.cell) return { kind: 'elsewhere', toShard: place };
      }
      const { source } = options;
      const record = await this.#placement.registry.register(message, source !== undefined ? { source } : {});
      const home = shardCellOf(record.location);
      if (home !== this.#upkeep.cell && previous) {
        // The node moved across a shard border: hand its accepted record (sequence numbers, move
        // history, verification) and its trust to the shard of its new place.
        const trust = this.#store.loadTrust().find((t) => t.nodeId === record.id);
        this.#placement.registry.release(record.id);
        await this.#upkeep.afterChange();
        return { kind: 'moved', record, previous, trust, toShard: home };
      }
      await this.#upkeep.afterChange();
      return { kind: 'kept', ack: this.#ack(record.id), record };
    });
  }

  /**
   * A node from another shard. One on probation is a newcomer here for the probation cap (refused, or
   * taking another's slot, by `options.source`); one with standing is taken as it is.
   */
  async adopt(
    handOff: { record: NodeRecord; trust: TrustRecord | undefined },
    shard: string,
    options: AdoptOptions = {},
  ): Promise<ShardResult<NodeAck>> {
    return asResult(async () => {
      this.#upkeep.claim(shard);
      if (shardCellOf(handOff.record.location) !== this.#upkeep.cell)
        throw new HexEdgeError(
          'INTERNAL',
          `node ${handOff.record.id} does not belong to shard ${this.#upkeep.cell}`,
        );
      const admit = { source: options.source, ...(options.returning ? { returning: true } : {}) };
      const record = this.#placement.registry.adopt(handOff.record, handOff.trust ? {} : { admit });
      if (handOff.trust) this.#placement.setTrust(record.id, handOff.trust.score, handOff.trust.reasons);
      await this.#upkeep.afterChange();
      return this.#ack(record.id);
    });
  }

  async heartbeat(message: unknown, shard: string): Promise<ShardResult<NodeAck>> {
    return asResult(async () => {
      this.#upkeep.claim(shard);
      const before = this.#placement.registry.get(
        parseWith(signedHeartbeatSchema, message, { what: 'heartbeat' }).body.nodeId,
      );
      const record = await this.#placement.registry.heartbeat(message);
      await this.#upkeep.afterHeartbeat(before, record);
      return this.#ack(record.id);
    });
  }

  async nearest(query: ShardNearestQuery) {
    return asResult(() => {
      const { contentId } = query;
      return this.#placement.nearest({
        location: query.location,
        k: query.k,
        ...(query.model ? { model: query.model } : {}),
        ...(query.version ? { version: query.version } : {}),
        ...(contentId !== undefined ? { contentId } : {}),
      });
    });
  }

  async candidatePool(query: ShardPoolQuery, options: { recordDemand: boolean }) {
    return asResult(() => this.#placement.candidatePool(query, options));
  }

  /** A node, its status and the oracle's trust in it (as the Node gateway's GET /v1/nodes/{id} shows). */
  async getNode(id: string) {
    const node = this.#placement.registry.get(id);
    return node
      ? { node, status: this.#placement.registry.statusOf(node), trust: this.#placement.getTrust(id) }
      : null;
  }

  async healthyNodes(): Promise<NodeRecord[]> {
    return [...this.#placement.registry.values()].filter(
      (n) => this.#placement.registry.statusOf(n) === 'healthy',
    );
  }

  async reportOutcome(outcome: CallOutcome): Promise<ShardResult<null>> {
    return asResult(() => (this.#placement.reportOutcome(outcome), null));
  }

  async setTrust(nodeId: string, score: number, reasons?: string[]): Promise<ShardResult<TrustRecord>> {
    return asResult(() => this.#placement.setTrust(nodeId, score, reasons));
  }

  async markLocationVerified(nodeId: string): Promise<ShardResult<NodeRecord>> {
    return asResult(() => this.#placement.markLocationVerified(nodeId));
  }

  /** The entries of a verified trust push for this shard's nodes, decided as the Node gateway does. */
  async applyTrust(
    scores: TrustScoreEntry[],
    options: { assumeLocationsVerified: boolean },
  ): Promise<ShardResult<TrustApplied>> {
    return asResult(() =>
      applyTrustEntries({
        placement: this.#placement,
        scores,
        assumeLocationsVerified: options.assumeLocationsVerified,
      }),
    );
  }

  /** Node count and cell, for tests and the benchmark. */
  async stats(): Promise<{ cell: string | null; nodes: number; probation: number; ids: string[] }> {
    return {
      cell: this.#upkeep.cell ?? null,
      nodes: this.#placement.registry.size,
      probation: this.#placement.probationNodeCount,
      ids: [...this.#placement.registry.values()].map((n) => n.id).sort(),
    };
  }

  override async alarm(): Promise<void> {
    await this.#upkeep.evictSilent();
  }

  /** Re-arms the eviction alarm from the current clock (tests call it after shifting the clock). */
  protected async rearmAlarm(): Promise<void> {
    await this.#upkeep.rearmAlarm();
  }

  #ack(nodeId: string): NodeAck {
    return {
      ok: true,
      heartbeatIntervalMs: this.#placement.registry.heartbeatIntervalMs,
      desiredModels: this.#placement.desiredModels(nodeId),
    };
  }
}
