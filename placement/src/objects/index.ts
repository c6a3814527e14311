// Runtime-neutral part of the sharded placement (the coordinator, shard geometry and jurisdiction,
// the RPC types); the Durable Object classes are in ./worker.ts (`@hexedge/placement/worker`).
export * from './eu-shard-cells.ts';
export * from './shard-geometry.ts';
export * from './shard-jurisdiction.ts';
export * from './shard-protocol.ts';
export * from './sharded-placement.ts';
export * from './shard-network.ts';
