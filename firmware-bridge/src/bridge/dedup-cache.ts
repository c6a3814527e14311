/**
 * Remembers the last `maxEntries` keys (insertion order, oldest evicted). ChirpStack redelivers an
 * event with QoS 1 and across reconnects; a few thousand deduplication ids cover minutes of a fleet.
 */
export class DedupCache {
  readonly #maxEntries: number;
  readonly #seen = new Set<string>();

  constructor(options: { maxEntries: number }) {
    this.#maxEntries = options.maxEntries;
  }

  /** True the first time a key is seen, false for a repeat. */
  firstTime(key: string): boolean {
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > this.#maxEntries) this.#seen.delete(this.#seen.values().next().value!);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}
