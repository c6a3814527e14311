/** An API key as the gateway keeps it: never the key itself, only its SHA-256. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** SHA-256 of the key, lowercase hex. */
  hash: string;
  /** `admin` manages keys and has full MQTT access; `app` calls the API within its scopes. */
  role: 'admin' | 'app';
  /** Models this key may use; absent means all. */
  models?: string[];
  /** Data residency: requests are served only inside this region (country code or named region). */
  region?: string;
  /** Token bucket: sustained requests per second and burst size. */
  ratePerSecond: number;
  burst: number;
  /** Requests per UTC day. */
  dailyQuota: number;
  createdAtMs: number;
  /**
   * Set on a key the operator configures (`HEXEDGE_ADMIN_KEY`) rather than one made through the API:
   * the slot it fills. Adopting another key into the slot revokes the one there, so changing the
   * configured key retires the old one.
   */
  slot?: string;
  expiresAtMs?: number;
  revokedAtMs?: number;
}

type Awaitable<T> = T | Promise<T>;

/**
 * Where keys live: memory for tests and `hexedge dev`, SQLite on Node (gateway/src/adapters), Durable
 * Objects on Workers (gateway/src/objects/durable-key-store.ts, over RPC: hence the promises).
 */
export interface KeyStore {
  put(record: ApiKeyRecord): Awaitable<void>;
  /**
   * Stores `record` unless a key with its hash is already there, and returns the stored record. Stores
   * shared between processes implement it atomically, so an operator's key adopted by many processes
   * at once ends up as one record and a revoked one stays revoked; without it, KeyRing looks up, then puts.
   */
  putIfAbsent?(record: ApiKeyRecord): Awaitable<ApiKeyRecord>;
  getById(id: string): Awaitable<ApiKeyRecord | undefined>;
  getByHash(hash: string): Awaitable<ApiKeyRecord | undefined>;
  list(): Awaitable<ApiKeyRecord[]>;
}

export class MemoryKeyStore implements KeyStore {
  readonly #byId = new Map<string, ApiKeyRecord>();
  readonly #byHash = new Map<string, ApiKeyRecord>();

  put(record: ApiKeyRecord): void {
    this.#byId.set(record.id, record);
    this.#byHash.set(record.hash, record);
  }

  getById(id: string): ApiKeyRecord | undefined {
    return this.#byId.get(id);
  }

  getByHash(hash: string): ApiKeyRecord | undefined {
    return this.#byHash.get(hash);
  }

  list(): ApiKeyRecord[] {
    return [...this.#byId.values()];
  }
}
