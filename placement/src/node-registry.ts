import {
  assertValidSignature,
  HexEdgeError,
  latLngToH3Cell,
  parseWith,
  signedHeartbeatSchema,
  signedRegistrationSchema,
  toLatLng,
} from '@hexedge/protocol';
import { NODE_CELL_RESOLUTION, type NodeRecord, type NodeStatus } from './node-record.ts';

/** A signed message may be at most this far from the registry's clock (either direction). */
export const MAX_CLOCK_SKEW_MS = 60_000;
/** A node that misses this many heartbeat intervals is unhealthy (not routed to). */
export const MISSED_HEARTBEATS_UNHEALTHY = 3;

export interface NodeRegistryOptions {
  heartbeatIntervalMs: number;
  now?: () => number;
  /** Called after a node is added, moved or updated, so an index can follow. */
  onChange?: (node: NodeRecord) => void;
}

/**
 * Node lifecycle: signed registration, signed sequence-numbered heartbeats, expiry. Every message
 * is fully checked before anything changes, so a refused message leaves the registry as it was.
 */
export class NodeRegistry {
  readonly heartbeatIntervalMs: number;
  readonly #nodes = new Map<string, NodeRecord>();
  readonly #now: () => number;
  readonly #onChange: (node: NodeRecord) => void;

  constructor(options: NodeRegistryOptions) {
    this.heartbeatIntervalMs = options.heartbeatIntervalMs;
    this.#now = options.now ?? Date.now;
    this.#onChange = options.onChange ?? (() => {});
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

  async register(message: unknown): Promise<NodeRecord> {
    const signed = parseWith(signedRegistrationSchema, message, { what: 'registration' });
    const { body } = signed;
    const location = toLatLng(body.location, 'location');
    this.#checkFresh(body.issuedAtMs, 'registration');
    await assertValidSignature('registration', signed);
    const existing = this.#nodes.get(body.nodeId);
    if (existing && body.issuedAtMs <= existing.lastRegistrationIssuedAtMs) {
      throw new HexEdgeError(
        'REPLAYED',
        `registration issued at ${body.issuedAtMs} is not newer than the accepted one (${existing.lastRegistrationIssuedAtMs})`,
      );
    }
    const now = this.#now();
    const record: NodeRecord = {
      id: body.nodeId,
      url: body.url.replace(/\/+$/, ''),
      location,
      cell: latLngToH3Cell(location, NODE_CELL_RESOLUTION),
      hardware: body.hardware,
      models: body.models,
      registeredAtMs: existing?.registeredAtMs ?? now,
      lastRegistrationIssuedAtMs: body.issuedAtMs,
      lastHeartbeatAtMs: now,
      // Sequence numbers never reset: a replayed heartbeat from before a re-registration stays refused.
      lastSeq: existing?.lastSeq ?? -1,
      draining: false,
    };
    this.#nodes.set(record.id, record);
    this.#onChange(record);
    return record;
  }

  async heartbeat(message: unknown): Promise<NodeRecord> {
    const signed = parseWith(signedHeartbeatSchema, message, { what: 'heartbeat' });
    const { body } = signed;
    const node = this.#nodes.get(body.nodeId);
    if (!node) throw new HexEdgeError('UNKNOWN_NODE', `heartbeat from unregistered node ${body.nodeId}`);
    this.#checkFresh(body.issuedAtMs, 'heartbeat');
    await assertValidSignature('heartbeat', signed);
    if (body.seq <= node.lastSeq) {
      throw new HexEdgeError('REPLAYED', `heartbeat sequence ${body.seq} is not above the last accepted ${node.lastSeq}`);
    }
    node.lastSeq = body.seq;
    node.lastHeartbeatAtMs = this.#now();
    node.models = body.models;
    node.draining = body.draining ?? false;
    this.#onChange(node);
    return node;
  }

  #checkFresh(issuedAtMs: number, what: string): void {
    const skewMs = Math.abs(this.#now() - issuedAtMs);
    if (skewMs > MAX_CLOCK_SKEW_MS) {
      throw new HexEdgeError('STALE_MESSAGE', `${what} issuedAtMs ${issuedAtMs} is ${skewMs} ms from the registry clock (max ${MAX_CLOCK_SKEW_MS})`);
    }
  }
}
