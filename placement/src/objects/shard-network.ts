import { shardJurisdiction } from './shard-jurisdiction.ts';
import type { DirectoryApi, ShardApi } from './shard-protocol.ts';
import type { ShardNetwork } from './sharded-placement.ts';

/** The part of a DurableObjectNamespace the network uses (structural, so this file stays runtime-neutral). */
export interface NamespaceLike {
  idFromName(name: string): unknown;
  get(id: never): unknown;
  jurisdiction?(jurisdiction: 'eu'): NamespaceLike;
}

/**
 * Stubs for shards and directory instances. With `pinJurisdictions`, a shard
 * whose cell overlaps the EU is created with `SHARDS.jurisdiction('eu')`, so Cloudflare keeps its
 * state (and runs it) inside the EU. Local workerd does not implement jurisdictions, so `wrangler dev`
 * and the tests turn pinning off; the shard cells and names are the same either way.
 */
export function durableShardNetwork(options: { shards: NamespaceLike; directory: NamespaceLike; pinJurisdictions: boolean }): ShardNetwork {
  // A stub is an I/O object of the request that made it, so stubs are made per call, not cached
  // (idFromName is a local hash; no round trip).
  const stub = <T>(ns: NamespaceLike, name: string) => ns.get(ns.idFromName(name) as never) as T;
  return {
    shard: (cell) => stub<ShardApi>(options.pinJurisdictions && shardJurisdiction(cell) === 'eu' ? options.shards.jurisdiction!('eu') : options.shards, cell),
    directory: (name) => stub<DirectoryApi>(options.directory, name),
  };
}
