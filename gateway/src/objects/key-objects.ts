import type { NamespaceLike, ShardResult } from '@hexedge/placement/shards';
import type { ApiKeyRecord } from '../keys/key-store.ts';
import type { RateDecision } from '../keys/rate-limit.ts';

/**
 * RPC of the object that holds one key (ApiKeyVault, named by the key's hash): its record and its
 * counters. HexEdgeErrors cross as values (Workers RPC keeps only an error's message).
 */
export interface KeyVaultApi {
  lookup(hash: string): Promise<ApiKeyRecord | null>;
  store(record: ApiKeyRecord): Promise<ApiKeyRecord>;
  storeIfAbsent(record: ApiKeyRecord): Promise<ApiKeyRecord>;
  take(hash: string): Promise<ShardResult<RateDecision>>;
  usedToday(hash: string): Promise<ShardResult<number>>;
}

/** RPC of the key directory (ApiKeyDirectory, one instance): keys by id, for listing and revoking. */
export interface KeyDirectoryApi {
  lookup(id: string): Promise<ApiKeyRecord | null>;
  upsert(record: ApiKeyRecord): Promise<void>;
  list(): Promise<ApiKeyRecord[]>;
}

/** Where the Worker finds keys: the Durable Object stubs, or local objects in unit tests. */
export interface KeyObjects {
  vault(hash: string): KeyVaultApi;
  directory(): KeyDirectoryApi;
}

export const KEY_DIRECTORY_NAME = 'keys';

/** Stubs for the key vaults and the directory. Made per call: a stub belongs to the request that made it. */
export function durableKeyObjects(options: { vaults: NamespaceLike; directory: NamespaceLike }): KeyObjects {
  const stub = <T>(ns: NamespaceLike, name: string) => ns.get(ns.idFromName(name) as never) as T;
  return {
    // The hash, not the key, names the object: a name travels in ids and logs, and the hash is what is kept anyway.
    vault: (hash) => stub<KeyVaultApi>(options.vaults, hash),
    directory: () => stub<KeyDirectoryApi>(options.directory, KEY_DIRECTORY_NAME),
  };
}
