// The Worker bindings and vars a placement shard reads, apart from the class so that a Worker's own
// Env (the gateway's GatewayWorkerEnv) can extend them without reading the shard's code.
import type { PlacementDirectory } from './placement-directory.ts';
import type { PlacementShard } from './placement-shard.ts';

export interface PlacementShardEnv {
  SHARDS: DurableObjectNamespace<PlacementShard>;
  DIRECTORY: DurableObjectNamespace<PlacementDirectory>;
  /** Heartbeat interval nodes are told to keep, ms (default 10 000). */
  HEARTBEAT_INTERVAL_MS?: string;
  /** "true" where no coverage oracle verifies locations (local development). */
  ASSUME_LOCATIONS_VERIFIED?: string;
  /** Nodes on probation one shard keeps at most (default DEFAULT_MAX_PROBATION_NODES_PER_SHARD). */
  MAX_PROBATION_NODES_PER_SHARD?: string;
}

export const DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS = 10_000;

/** The directory instance `name`: a bucket of node entries, or the shard map (DIRECTORY_MAP_NAME). */
export const directoryOf = (env: PlacementShardEnv, name: string) =>
  env.DIRECTORY.get(env.DIRECTORY.idFromName(name));
