import type { NodeAck, LatLng } from '@hexedge/protocol';
import type { Candidate, JoiningModel, NodeRecord, NodeStatus, Placement } from '@hexedge/placement';
import type { PlacementPort } from './infer/infer-ports.ts';

type MaybePromise<T> = T | Promise<T>;

/** `GET /v1/nodes/nearest` and the peers lookup: healthy nodes, optionally serving a model or holding an artifact (ready). */
export interface NearestNodesQuery {
  location: LatLng;
  k: number;
  model?: string;
  /** Only nodes holding this artifact, ready. */
  contentId?: string;
}

/**
 * Everything the HTTP app asks of placement. On Node it is the in-process `Placement`
 * (`localPlacement`); on Workers a client of the H3-sharded Durable Objects
 * (`@hexedge/placement/worker`), whose answers arrive over RPC, hence the promises.
 */
export interface GatewayPlacement extends PlacementPort {
  /**
   * `source`: the client source the registration came from (an IPv4 address or an IPv6 /48), which
   * a full probation cap shares its slots between (on the Worker, each placement shard's cap).
   */
  register(message: unknown, options?: { source?: string }): Promise<NodeAck>;
  heartbeat(message: unknown): Promise<NodeAck>;
  nearest(query: NearestNodesQuery): MaybePromise<Candidate[]>;
  /** A node, its status and (where placement holds it) the oracle's trust in it. */
  getNode(id: string): MaybePromise<
    | {
        node: NodeRecord;
        status: NodeStatus;
        trust?: { score: number; probation: boolean; reasons: string[] };
      }
    | undefined
  >;
  /** Every healthy node (the model catalog lists who serves what). */
  healthyNodes(): MaybePromise<Iterable<NodeRecord>>;
  /** What a joining node should pull first; absent where the plan is not at hand (the Worker's shards): the catalogue alone decides then. */
  modelsForJoiningNode?(
    query: Parameters<Placement['modelsForJoiningNode']>[0],
  ): MaybePromise<JoiningModel[]>;
}

/** The in-process placement seen through the gateway's port. */
export function localPlacement(placement: Placement): GatewayPlacement {
  const ack = (nodeId: string): NodeAck => ({
    ok: true,
    heartbeatIntervalMs: placement.registry.heartbeatIntervalMs,
    desiredModels: placement.desiredModels(nodeId),
  });
  // Answered only once the change is on disk (the store commits registrations and heartbeats in groups).
  const durably = async (accepted: Promise<{ id: string }>) => {
    const { id } = await accepted;
    await placement.registry.durable();
    return ack(id);
  };
  return {
    register: (message, options) => durably(placement.registry.register(message, options)),
    heartbeat: (message) => durably(placement.registry.heartbeat(message)),
    nearest: ({ location, k, model, contentId }) =>
      placement.nearest({
        location,
        k,
        ...(model ? { model } : {}),
        ...(contentId !== undefined ? { contentId } : {}),
      }),
    getNode: (id) => {
      const node = placement.registry.get(id);
      return node && { node, status: placement.registry.statusOf(node), trust: placement.getTrust(id) };
    },
    healthyNodes: () =>
      [...placement.registry.values()].filter((n) => placement.registry.statusOf(n) === 'healthy'),
    modelsForJoiningNode: (query) => placement.modelsForJoiningNode(query),
    candidates: (query) => placement.candidates(query),
    isKnownModel: (model, version) => placement.isKnownModel(model, version),
    reportOutcome: (outcome) => placement.reportOutcome(outcome),
  };
}
