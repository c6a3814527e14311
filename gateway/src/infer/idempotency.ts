import { trimOldest } from '@hexedge/protocol';
/**
 * Answers a client's retry of the same request id with the first answer instead of a second
 * inference. Entries live for `windowMs`; the map is bounded (oldest evicted first), so a flood of
 * ids cannot grow memory. In-flight requests are shared too: a retry that arrives while the first
 * attempt runs waits for it. Failures are not kept, so a client may retry after an error.
 */
export class IdempotencyCache<T> {
  readonly #entries = new Map<string, { value: Promise<T>; expiresAtMs: number }>();
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { windowMs: number; maxEntries: number; now?: () => number }) {
    this.#windowMs = options.windowMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Runs `compute` once per key within the window; returns `{ value, replayed }`. */
  async run(key: string, compute: () => Promise<T>): Promise<{ value: T; replayed: boolean }> {
    const now = this.#now();
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAtMs > now) return { value: await hit.value, replayed: true };
    if (hit) this.#entries.delete(key);
    const value = compute();
    this.#entries.set(key, { value, expiresAtMs: now + this.#windowMs });
    trimOldest(this.#entries, this.#maxEntries);
    try {
      return { value: await value, replayed: false };
    } catch (err) {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
      throw err;
    }
  }
}
