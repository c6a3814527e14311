// `@hexedge/placement/worker`: the Durable Object classes a Worker exports, plus the coordinator.
export * from './index.ts';
export { PlacementShard, DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS, type PlacementShardEnv } from './placement-shard.ts';
export { PlacementDirectory } from './placement-directory.ts';
