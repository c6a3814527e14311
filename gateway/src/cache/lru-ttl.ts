import { takeOldest } from '@hexedge/protocol';
/** Why an entry left the cache (a metric label). */
export type EvictionReason = 'lru' | 'expired' | 'invalid';

export interface CacheLimits {
  /** How long an entry is served after it was stored. */
  ttlMs: number;
  /** Entries kept at most (all tenants together); past it the least recently used goes. */
  maxEntries: number;
  /** Bytes kept at most (the entries' own estimate); past it the least recently used go. */
  maxBytes: number;
  /** An entry larger than this is not stored at all (one big answer must not flush everyone's). */
  maxEntryBytes: number;
}

interface Slot<V> {
  value: V;
  sizeBytes: number;
  storedAtMs: number;
}

/**
 * A least-recently-used map bounded in entries and bytes, whose entries expire `ttlMs` after they
 * were stored. A Map's insertion order is the recency order: a hit re-inserts its entry at the end,
 * eviction takes from the front. Every eviction is reported with its reason.
 */
export class LruTtlCache<V> {
  readonly #slots = new Map<string, Slot<V>>();
  readonly #limits: CacheLimits;
  readonly #now: () => number;
  readonly #onEvict: (reason: EvictionReason) => void;
  #bytes = 0;

  constructor(options: {
    limits: CacheLimits;
    now?: () => number;
    onEvict?: (reason: EvictionReason) => void;
  }) {
    this.#limits = options.limits;
    this.#now = options.now ?? Date.now;
    this.#onEvict = options.onEvict ?? (() => {});
  }

  get size(): number {
    return this.#slots.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The live entry under `key` (now most recently used), or undefined; an expired one is dropped. */
  get(key: string): { value: V; storedAtMs: number } | undefined {
    const slot = this.#slots.get(key);
    if (!slot) return undefined;
    if (this.#now() - slot.storedAtMs >= this.#limits.ttlMs) {
      this.#drop(key, slot, 'expired');
      return undefined;
    }
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    return { value: slot.value, storedAtMs: slot.storedAtMs };
  }

  /** Stores `value` (replacing any entry under `key`); false when it is larger than maxEntryBytes. */
  set(key: string, value: V, sizeBytes: number): boolean {
    if (sizeBytes > this.#limits.maxEntryBytes || sizeBytes > this.#limits.maxBytes) return false;
    const old = this.#slots.get(key);
    if (old) {
      this.#slots.delete(key);
      this.#bytes -= old.sizeBytes;
    }
    this.#slots.set(key, { value, sizeBytes, storedAtMs: this.#now() });
    this.#bytes += sizeBytes;
    while (this.#slots.size > this.#limits.maxEntries || this.#bytes > this.#limits.maxBytes) {
      // Taken out here and dropped below (#drop deletes it again: a no-op); the cursor keeps eviction O(1).
      const [oldestKey, oldest] = takeOldest(this.#slots)!;
      this.#drop(
        oldestKey,
        oldest,
        this.#now() - oldest.storedAtMs >= this.#limits.ttlMs ? 'expired' : 'lru',
      );
    }
    return true;
  }

  /** Drops an entry that must no longer be served (its node lost standing, its model changed). */
  invalidate(key: string): void {
    const slot = this.#slots.get(key);
    if (slot) this.#drop(key, slot, 'invalid');
  }

  #drop(key: string, slot: Slot<V>, reason: EvictionReason): void {
    this.#slots.delete(key);
    this.#bytes -= slot.sizeBytes;
    this.#onEvict(reason);
  }
}
