import {
  assertValidSignature,
  greatCircleDistanceKm,
  HexEdgeError,
  latLngToH3Cell,
  parseWith,
  signedHeartbeatSchema,
  signedRegistrationSchema,
  toLatLng,
} from '@hexedge/protocol';
import { BatchUndo } from './batch-undo.ts';
import { DepartedNodes, MAX_DEPARTED_NODES } from './departed-nodes.ts';
import { regionsAt } from './jurisdiction.ts';
import { NODE_CELL_RESOLUTION, type NodeRecord, type NodeStatus } from './node-record.ts';
import type { NodeRegistryOptions } from './node-registry-options.ts';
import { MemoryNodeStore, type NodeStore } from './node-store.ts';
import {
  checkFresh,
  checkMoveAllowed,
  LOCATION_JITTER_KM,
  MAX_CLOCK_SKEW_MS,
  MIN_LOCATION_CHANGE_INTERVAL_MS,
} from './registration-checks.ts';

export { LOCATION_JITTER_KM, MAX_CLOCK_SKEW_MS, MAX_DEPARTED_NODES, MIN_LOCATION_CHANGE_INTERVAL_MS };
export type { NodeRegistryOptions } from './node-registry-options.ts';

/** A node that misses this many heartbeat intervals is unhealthy (not routed to). */
export const MISSED_HEARTBEATS_UNHEALTHY = 3;
/**
 * A node silent this long is forgotten (it must register again). Far above MAX_CLOCK_SKEW_MS, so
 * forgetting its sequence numbers is safe: any message captured before eviction is stale by then.
 */
export const EVICT_AFTER_SILENT_MS = 10 * 60_000;
/** Registrations and heartbeats also sweep for silent nodes, at most this often (the sweep is O(nodes)). */
export const EVICTION_SWEEP_INTERVAL_MS = 60_000;

/**
 * Node lifecycle: signed registration, signed sequence-numbered heartbeats, expiry, eviction, drain
 * and location changes. Every message is fully checked, then written to the store, then applied: a
 * refused message (or a failed write) leaves the registry as it was. Records are replaced, never
 * mutated, so a caller holding one sees a consistent snapshot.
 */
export class NodeRegistry {
  readonly heartbeatIntervalMs: number;
  readonly evictAfterSilentMs: number;
  readonly #nodes = new Map<string, NodeRecord>();
  readonly #now: () => number;
  readonly #onChange: (node: NodeRecord) => void;
  readonly #onRemove: (nodeId: string) => void;
  readonly #store: NodeStore;
  readonly #assumeLocationsVerified: boolean;
  readonly #admit: NodeRegistryOptions['admit'];
  readonly #admitNewNode: NodeRegistryOptions['admitNewNode'];
  readonly #onEvictedForRoom: (nodeId: string) => void;
  /** With a group-committing store: how to put back a batch whose commit failed. */
  readonly #batchUndo: BatchUndo;
  readonly #departed: DepartedNodes;
  #lastSweepMs = -Infinity;

  constructor(options: NodeRegistryOptions) {
    if (!(Number.isFinite(options.heartbeatIntervalMs) && options.heartbeatIntervalMs > 0)) {
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `heartbeatIntervalMs must be a positive number, got ${options.heartbeatIntervalMs}`,
      );
    }
    this.heartbeatIntervalMs = options.heartbeatIntervalMs;
    // Eviction must come well after a node turns unhealthy, however long the interval.
    this.evictAfterSilentMs = Math.max(
      EVICT_AFTER_SILENT_MS,
      2 * MISSED_HEARTBEATS_UNHEALTHY * this.heartbeatIntervalMs,
    );
    this.#now = options.now ?? Date.now;
    this.#onChange = options.onChange ?? (() => {});
    this.#onRemove = options.onRemove ?? (() => {});
    this.#store = options.store ?? new MemoryNodeStore();
    this.#assumeLocationsVerified = options.assumeLocationsVerified ?? false;
    this.#admit = options.admit;
    this.#admitNewNode = options.admitNewNode;
    this.#onEvictedForRoom = options.onEvictedForRoom ?? (() => {});
    this.#batchUndo = new BatchUndo({
      whenDurable: () => this.#store.whenDurable!(),
      restore: (id, prev) => {
        if (prev) {
          this.#nodes.set(id, prev);
          this.#onChange(prev);
        } else if (this.#nodes.delete(id)) {
          this.#onRemove(id);
        }
      },
    });
    const restoredAtMs = this.#now();
    this.#departed = new DepartedNodes(this.#store, restoredAtMs);
    for (const stored of this.#store.loadNodes()) {
      // Regions are derived data: recomputed so a newer border file applies after an upgrade.
      // While this registry was down, nodes' heartbeats had nowhere to go: that silence is not theirs,
      // so a restored node counts as heard at restore (until 3 missed intervals, as for any node) and
      // requests queued during the outage are served at once instead of refused for a heartbeat.
      const lastHeartbeatAtMs =
        restoredAtMs - stored.lastHeartbeatAtMs < this.evictAfterSilentMs
          ? Math.max(stored.lastHeartbeatAtMs, restoredAtMs)
          : stored.lastHeartbeatAtMs;
      const record = { ...stored, lastHeartbeatAtMs, regions: regionsAt(stored.location) };
      this.#nodes.set(record.id, record);
      this.#onChange(record);
    }
  }

  get size(): number {
    return this.#nodes.size;
  }

  get(id: string): NodeRecord | undefined {
    return this.#nodes.get(id);
  }

  values(): IterableIterator<NodeRecord> {
    return this.#nodes.values();
  }

  statusOf(node: NodeRecord): NodeStatus {
    if (node.draining) return 'draining';
    const silentMs = this.#now() - node.lastHeartbeatAtMs;
    return silentMs > MISSED_HEARTBEATS_UNHEALTHY * this.heartbeatIntervalMs ? 'unhealthy' : 'healthy';
  }

  /** `source`: where the registration came from (the gateway's client source), for admitNewNode. */
  async register(message: unknown, options: { source?: string } = {}): Promise<NodeRecord> {
    const signed = parseWith(signedRegistrationSchema, message, { what: 'registration' });
    const { body } = signed;
    const location = toLatLng(body.location, 'location');
    checkFresh({ issuedAtMs: body.issuedAtMs, nowMs: this.#now(), what: 'registration' });
    await assertValidSignature('registration', signed);
    const existing = this.#nodes.get(body.nodeId);
    if (existing && body.issuedAtMs <= existing.lastRegistrationIssuedAtMs) {
      throw new HexEdgeError(
        'REPLAYED',
        `registration issued at ${body.issuedAtMs} is not newer than the accepted one (${existing.lastRegistrationIssuedAtMs})`,
      );
    }
    this.#admit?.({ nodeId: body.nodeId, kind: 'registration' });
    // Admission first (a refusal costs nothing more); a slot it frees is taken only once every check
    // below has passed, so a refused registration evicts nobody.
    const room = existing ? undefined : this.#admitNewNode?.({ nodeId: body.nodeId, source: options.source });
    const now = this.#now();
    // A node back after an eviction is judged against where it left from: silence buys no fresh move.
    const departed = existing ? undefined : this.#departed.get(body.nodeId);
    const before = existing ?? departed;
    const moved =
      before !== undefined && greatCircleDistanceKm(before.location, location) > LOCATION_JITTER_KM;
    if (moved)
      checkMoveAllowed({ id: body.nodeId, locationChangedAtMs: before.locationChangedAtMs }, location, now);
    const record: NodeRecord = {
      id: body.nodeId,
      url: body.url.replace(/\/+$/, ''),
      location: moved || !existing ? location : existing.location,
      cell: moved || !existing ? latLngToH3Cell(location, NODE_CELL_RESOLUTION) : existing.cell,
      hardware: body.hardware,
      models: body.models,
      registeredAtMs: existing?.registeredAtMs ?? now,
      lastRegistrationIssuedAtMs: body.issuedAtMs,
      lastHeartbeatAtMs: now,
      // Sequence numbers never reset: a replayed heartbeat from before a re-registration stays refused.
      lastSeq: existing?.lastSeq ?? -1,
      draining: false,
      pricePerRequest: body.pricePerRequest ?? 0,
      // A claim at a new place is only a claim until the oracle re-verifies it.
      locationVerified: existing && !moved ? existing.locationVerified : this.#assumeLocationsVerified,
      locationChangedAtMs: moved ? now : (before?.locationChangedAtMs ?? null),
      regions: moved || !existing ? regionsAt(location) : existing.regions,
    };
    // The first admission's source stays with the node (a restart restores its share under it).
    const admittedFrom = existing ? existing.admittedFrom : options.source;
    if (admittedFrom !== undefined) record.admittedFrom = admittedFrom;
    this.#makeRoom(room, now);
    this.#commit(record);
    if (departed) this.#departed.forget(body.nodeId);
    return record;
  }

  async heartbeat(message: unknown): Promise<NodeRecord> {
    const signed = parseWith(signedHeartbeatSchema, message, { what: 'heartbeat' });
    const { body } = signed;
    const node = this.#nodes.get(body.nodeId);
    if (!node) throw new HexEdgeError('UNKNOWN_NODE', `heartbeat from unregistered node ${body.nodeId}`);
    checkFresh({ issuedAtMs: body.issuedAtMs, nowMs: this.#now(), what: 'heartbeat' });
    await assertValidSignature('heartbeat', signed);
    // Re-read after the await: another heartbeat may have been accepted meanwhile.
    const current = this.#nodes.get(body.nodeId);
    if (!current) throw new HexEdgeError('UNKNOWN_NODE', `heartbeat from unregistered node ${body.nodeId}`);
    if (body.seq <= current.lastSeq) {
      throw new HexEdgeError(
        'REPLAYED',
        `heartbeat sequence ${body.seq} is not above the last accepted ${current.lastSeq}`,
      );
    }
    this.#admit?.({ nodeId: body.nodeId, kind: 'heartbeat' });
    const record: NodeRecord = {
      ...current,
      lastSeq: body.seq,
      lastHeartbeatAtMs: this.#now(),
      models: body.models,
      draining: body.draining ?? false,
    };
    this.#commit(record);
    return record;
  }

  /**
   * Settles once every change accepted so far is on disk (a store that commits in groups; at once
   * otherwise). Answer a node only after it: an acknowledged heartbeat's sequence number survives a crash.
   */
  durable(): Promise<void> {
    return this.#store.whenDurable?.() ?? Promise.resolve();
  }

  /** The oracle confirmed the node's current location: it may serve region- and trust-bound requests again. */
  markLocationVerified(nodeId: string): NodeRecord {
    const node = this.#nodes.get(nodeId);
    if (!node)
      throw new HexEdgeError(
        'UNKNOWN_NODE',
        `cannot verify the location of unregistered node ${JSON.stringify(nodeId)}`,
      );
    if (node.locationVerified) return node;
    const record = { ...node, locationVerified: true };
    this.#commit(record);
    return record;
  }

  /** The oracle judged the node's current claim not verified (impossible, too uncertain): off region- and trust-bound requests. */
  markLocationUnverified(nodeId: string): NodeRecord {
    const node = this.#nodes.get(nodeId);
    if (!node)
      throw new HexEdgeError(
        'UNKNOWN_NODE',
        `cannot unverify the location of unregistered node ${JSON.stringify(nodeId)}`,
      );
    if (!node.locationVerified) return node;
    const record = { ...node, locationVerified: false };
    this.#commit(record);
    return record;
  }

  /**
   * Takes over a record another registry accepted (a sharded deployment hands a node that moved to the
   * shard of its new place): stored and applied as it is, so sequence numbers, the move history and
   * verification carry over.
   */
  adopt(
    record: NodeRecord,
    options: { admit?: { source: string | undefined; returning?: boolean } } = {},
  ): NodeRecord {
    const adopted = { ...record, regions: regionsAt(record.location) };
    // With `admit`, a node arriving from another shard is a new node here (admitNewNode decides, as
    // for a registration: it may be refused, or take another's slot); a refusal changes nothing.
    const { admit } = options;
    const room =
      admit && !this.#nodes.has(record.id)
        ? this.#admitNewNode?.({
            nodeId: record.id,
            source: admit.source,
            ...(admit.returning ? { returning: true } : {}),
          })
        : undefined;
    this.#makeRoom(room, this.#now());
    this.#commit(adopted);
    return adopted;
  }

  /** Evicts the node whose slot admitNewNode gave away, once every check of the write has passed. */
  #makeRoom(room: { evict?: string } | void | undefined, atMs: number): void {
    const victim = room?.evict !== undefined ? this.#nodes.get(room.evict) : undefined;
    if (!victim) return;
    this.#evict(victim, atMs);
    this.#onEvictedForRoom(victim.id);
  }

  /** Forgets a node now (it moved to another shard); false if it was not here. */
  release(nodeId: string): boolean {
    if (!this.#nodes.has(nodeId)) return false;
    this.#store.deleteNode(nodeId);
    this.#nodes.delete(nodeId);
    this.#onRemove(nodeId);
    return true;
  }

  /** Forgets nodes silent for `evictAfterSilentMs`; returns their ids. */
  evictSilent(): string[] {
    this.#lastSweepMs = this.#now();
    const cutoffMs = this.#lastSweepMs - this.evictAfterSilentMs;
    const evicted: string[] = [];
    for (const node of this.#nodes.values()) {
      if (node.lastHeartbeatAtMs >= cutoffMs) continue;
      this.#evict(node, this.#lastSweepMs);
      evicted.push(node.id);
    }
    this.#departed.expire(this.#lastSweepMs);
    return evicted;
  }

  /** Forgets a node as a silent one is forgotten (its departure remembered against fresh moves). */
  #evict(node: NodeRecord, atMs: number): void {
    this.#departed.depart(node, atMs);
    this.#store.deleteNode(node.id);
    this.#nodes.delete(node.id);
    this.#onRemove(node.id);
  }

  #commit(record: NodeRecord): void {
    const before = this.#nodes.get(record.id);
    this.#store.saveNode(record);
    if (this.#store.whenDurable) this.#batchUndo.remember(record.id, before);
    this.#nodes.set(record.id, record);
    this.#onChange(record);
    if (this.#now() - this.#lastSweepMs >= EVICTION_SWEEP_INTERVAL_MS) this.evictSilent();
  }
}
