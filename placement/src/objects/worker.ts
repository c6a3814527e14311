// `@hexedge/placement/worker`: the Durable Object classes a Worker exports, plus the coordinator.
export { SHARD_RESOLUTION } from './shard-geometry.ts';
export { ShardedPlacement, type ShardNetwork } from './sharded-placement.ts';
export { durableShardNetwork } from './shard-network.ts';
export { PlacementShard } from './placement-shard.ts';
export { DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS, type PlacementShardEnv } from './shard-env.ts';
export { PlacementDirectory } from './placement-directory.ts';
export { DIRECTORY_NONCES_NAME, DIRECTORY_SEQS_NAME } from './shard-protocol.ts';
