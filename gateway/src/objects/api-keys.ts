import { DurableObject } from 'cloudflare:workers';
import { asResult, type ShardResult } from '@hexedge/placement/shards';
import type { ApiKeyRecord } from '../keys/key-store.ts';
import { KeyIndex, KeyVault } from '../keys/key-vault.ts';
import type { RateDecision } from '../keys/rate-limit.ts';
import type { KeyDirectoryApi, KeyVaultApi } from './key-objects.ts';

/**
 * One API key's Durable Object (named by the key's SHA-256): its record and its token bucket and
 * daily count, in SQLite storage. Calls run one at a time and the SQL API is synchronous, so a take
 * reads and writes the bucket with nothing in between; the output gate holds the reply until the
 * write is durable, so a counted request or a revocation is never lost by a restart.
 */
export class ApiKeyVault extends DurableObject<object> implements KeyVaultApi {
  readonly #vault: KeyVault;

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    this.#vault = new KeyVault(ctx.storage.sql);
  }

  async lookup(hash: string): Promise<ApiKeyRecord | null> {
    return this.#vault.get(hash) ?? null;
  }

  async store(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    return this.#vault.put(record);
  }

  async storeIfAbsent(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    return this.#vault.putIfAbsent(record);
  }

  async take(hash: string): Promise<ShardResult<RateDecision>> {
    return asResult(() => this.#vault.take(hash, Date.now()));
  }

  async usedToday(hash: string): Promise<ShardResult<number>> {
    return asResult(() => this.#vault.usedToday(hash, Date.now()));
  }
}

/** Keys by id (one instance): what `GET /v1/keys` lists and `DELETE /v1/keys/{id}` finds. */
export class ApiKeyDirectory extends DurableObject<object> implements KeyDirectoryApi {
  readonly #index: KeyIndex;

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    this.#index = new KeyIndex(ctx.storage.sql);
  }

  async lookup(id: string): Promise<ApiKeyRecord | null> {
    return this.#index.get(id) ?? null;
  }

  async upsert(record: ApiKeyRecord): Promise<void> {
    this.#index.put(record);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return this.#index.list();
  }
}
