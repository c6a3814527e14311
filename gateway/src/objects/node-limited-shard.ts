import { DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS, PlacementShard } from '@hexedge/placement/worker';
import { NodeMessageLimits } from '../routes/node-message-limits.ts';

/**
 * The placement shard the gateway Worker binds as `PlacementShard`: the placement package's shard
 * with the per-node registration and heartbeat rates of the Node gateway (NodeMessageLimits.admit),
 * charged once a message's signature holds, so nobody can spend an honest node's allowance. Every
 * message of a node reaches its shard, so the shard's memory is the one place to count them; a node
 * that moves to another shard starts with a full bucket there (moves are themselves limited), and so
 * does one whose shard was evicted (a shard with live nodes is not idle, so is not evicted).
 */
export class NodeLimitedPlacementShard extends PlacementShard {
  #limits: NodeMessageLimits | undefined;

  protected override admit(message: { nodeId: string; kind: 'registration' | 'heartbeat' }): void {
    // Made on first use: the base constructor builds the registry (holding this hook) before this
    // class's fields exist.
    this.#limits ??= new NodeMessageLimits({
      heartbeatIntervalMs: Number(this.env.HEARTBEAT_INTERVAL_MS ?? DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS),
      now: () => this.now(),
    });
    this.#limits.admit(message);
  }
}
