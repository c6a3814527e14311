import { HexEdgeError } from '@hexedge/protocol';
import { unwrap, type ShardResult } from '@hexedge/placement/shards';
import type { ApiKeyRecord, KeyStore } from '../keys/key-store.ts';
import type { KeyLimiter, RateDecision } from '../keys/rate-limit.ts';
import type { KeyObjects } from './key-objects.ts';

/** How long an isolate reuses a key record it looked up; see the class comment for why this is safe. */
export const DEFAULT_KEY_CACHE_TTL_MS = 60_000;
/** Records an isolate keeps at most (a few hundred bytes each); the oldest go first. */
export const DEFAULT_KEY_CACHE_ENTRIES = 10_000;

/**
 * The Worker's KeyStore and KeyLimiter: every key in its own Durable Object (ApiKeyVault, named by
 * the key's hash), which holds the record, the token bucket and the day's count, and a directory
 * (ApiKeyDirectory) of copies by id for listing and revoking. Any isolate sees a key the moment its
 * vault has it, and every metered request is counted in the vault, so bursts and daily quotas hold
 * across isolates exactly.
 *
 * An isolate caches records it found (never misses, never revoked ones) for `cacheTtlMs`. That cannot
 * resurrect a revoked key: `take` and `usedToday` run in the vault, which refuses a revoked or expired
 * key from its own record, and the cached entry is dropped when it does. A record's other fields
 * (role, scopes, limits) never change after creation, and the vault meters by its own copy anyway. So
 * the cache saves one round trip to the vault per request and delays no revocation on any route that
 * meters or reads usage — on the Worker, every route that takes a key.
 */
export class DurableKeyStore implements KeyStore {
  readonly limiter: KeyLimiter;
  readonly #objects: KeyObjects;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #cache = new Map<string, { record: ApiKeyRecord; fetchedAtMs: number }>();

  constructor(options: {
    objects: KeyObjects;
    now?: () => number;
    cacheTtlMs?: number;
    cacheEntries?: number;
  }) {
    this.#objects = options.objects;
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.cacheTtlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
    this.#maxEntries = options.cacheEntries ?? DEFAULT_KEY_CACHE_ENTRIES;
    const inVault = async <T>(key: ApiKeyRecord, call: Promise<ShardResult<T>>): Promise<T> => {
      try {
        return unwrap(await call);
      } catch (err) {
        if (err instanceof HexEdgeError && err.code === 'UNAUTHORIZED') this.#cache.delete(key.hash);
        throw err;
      }
    };
    this.limiter = {
      take: (key): Promise<RateDecision> => inVault(key, this.#objects.vault(key.hash).take(key.hash)),
      usedToday: (key): Promise<number> => inVault(key, this.#objects.vault(key.hash).usedToday(key.hash)),
    };
  }

  /** The vault first: it decides (a revocation there is final); the directory copies what it kept. */
  async put(record: ApiKeyRecord): Promise<void> {
    this.#cache.delete(record.hash);
    const stored = await this.#objects.vault(record.hash).store(record);
    await this.#objects.directory().upsert(stored);
  }

  /**
   * Adoption of the operator's key by every isolate: the vault keeps the first record, and the
   * directory is brought up to it each time (unchanged rows are not rewritten), so an adoption that
   * failed between the two writes is completed by the next.
   */
  async putIfAbsent(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    const stored = await this.#objects.vault(record.hash).storeIfAbsent(record);
    await this.#objects.directory().upsert(stored);
    return stored;
  }

  async getById(id: string): Promise<ApiKeyRecord | undefined> {
    return (await this.#objects.directory().lookup(id)) ?? undefined;
  }

  async getByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const now = this.#now();
    const hit = this.#cache.get(hash);
    if (hit && now - hit.fetchedAtMs < this.#ttlMs) return hit.record;
    this.#cache.delete(hash);
    const record = (await this.#objects.vault(hash).lookup(hash)) ?? undefined;
    if (record && record.revokedAtMs === undefined && this.#ttlMs > 0) {
      if (this.#cache.size >= this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(hash, { record, fetchedAtMs: now });
    }
    return record;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return this.#objects.directory().list();
  }
}
