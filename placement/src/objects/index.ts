// Runtime-neutral part of the sharded placement (the coordinator, shard geometry and jurisdiction,
// the RPC types); the Durable Object classes are in ./worker.ts (`@hexedge/placement/worker`).
export { EU_SHARD_CELLS } from './eu-shard-cells.ts';
export { minDistanceToCellKm, SHARD_RESOLUTION, shardCellOf } from './shard-geometry.ts';
export { regionShardCells, shardJurisdiction } from './shard-jurisdiction.ts';
export {
  asResult,
  directoryBucketName,
  type DirectoryApi,
  modelKey,
  type ShardApi,
  type ShardNearestQuery,
  type ShardPoolQuery,
  type ShardResult,
  type ShardSummary,
  unwrap,
} from './shard-protocol.ts';
export { ShardedPlacement } from './sharded-placement.ts';
export { durableShardNetwork, type NamespaceLike } from './shard-network.ts';
