/** Roots a verifier keeps by default: a few seconds of a busy fabric's batches, a few hundred KB. */
export const DEFAULT_VERIFIED_ROOTS = 4096;

/**
 * Batch roots whose signature this verifier has checked, so each root's Ed25519 verification runs
 * once however many of its leaves arrive. Keyed by kind, signer and root; the value is the rest of
 * what was signed (leaf count, time, signature), so a cached root only vouches for exactly the signed
 * message it was verified as: the same root claimed by another node, or with another count, is a miss
 * and goes through a full signature check. Bounded LRU: the least recently used root is dropped first.
 */
export class VerifiedRoots {
  readonly #max: number;
  readonly #entries = new Map<string, string>();
  readonly stats = { hits: 0, misses: 0 };

  constructor(options: { maxRoots?: number } = {}) {
    this.#max = Math.max(1, options.maxRoots ?? DEFAULT_VERIFIED_ROOTS);
  }

  get size(): number {
    return this.#entries.size;
  }

  static keyOf(kind: string, nodeId: string, root: string): string {
    return `${kind}\n${nodeId}\n${root}`;
  }

  /** Whether exactly this signed root was verified before (and marks it recently used). */
  has(key: string, signed: string): boolean {
    const held = this.#entries.get(key);
    if (held !== signed) {
      this.stats.misses++;
      return false;
    }
    this.#entries.delete(key);
    this.#entries.set(key, held);
    this.stats.hits++;
    return true;
  }

  add(key: string, signed: string): void {
    this.#entries.delete(key);
    this.#entries.set(key, signed);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
