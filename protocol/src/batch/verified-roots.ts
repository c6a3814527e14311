import { InnerNodeMemo } from './merkle.ts';

/** Roots a verifier keeps by default: a few seconds of a busy fabric's batches, a few hundred KB. */
export const DEFAULT_VERIFIED_ROOTS = 4096;

/**
 * Batch roots whose signature this verifier has checked, so each root's Ed25519 verification runs
 * once however many of its leaves arrive. Keyed by kind, signer and root; the value is the rest of
 * what was signed (leaf count, time, signature), so a cached root only vouches for exactly the signed
 * message it was verified as: the same root claimed by another node, or with another count, is a miss
 * and goes through a full signature check. Bounded LRU in two generations (a hit in the older one
 * moves the root to the newer; when the newer is full the older is dropped): O(1), no reordering on
 * the hot path, and at most `maxRoots` roots held (2 when `maxRoots` is 1).
 */
export class VerifiedRoots {
  readonly #generationSize: number;
  #young = new Map<string, string>();
  #old = new Map<string, string>();
  /** Verifications under way, by key (bounded by the verifications a caller runs at once). */
  readonly #running = new Map<string, { signed: string; result: Promise<boolean> }>();
  /** Inner nodes of the trees this verifier walked (their leaves arrive one by one). */
  readonly innerNodes = new InnerNodeMemo();
  /** Lookups answered without a signature check, and signature checks run. */
  readonly stats = { hits: 0, misses: 0 };
  /** The signed roots hasRoot found last, by their fields: all in the newer generation (see hasRoot). */
  #recent: RecentRoot[] = [];

  constructor(options: { maxRoots?: number } = {}) {
    this.#generationSize = Math.max(1, Math.floor((options.maxRoots ?? DEFAULT_VERIFIED_ROOTS) / 2));
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  static keyOf(kind: string, nodeId: string, root: string): string {
    return `${kind}\n${nodeId}\n${root}`;
  }

  /**
   * Whether this signed root verifies: from the cache, from a verification of it already under way
   * (so a batch whose leaves arrive together costs one signature check, not one each), or by `verify`.
   */
  async verify(
    key: string,
    signed: string,
    verify: () => Promise<boolean>,
  ): Promise<{ ok: boolean; cached: boolean }> {
    return this.verifyNow(key, signed, verify);
  }

  /**
   * `verify`, answered synchronously when it can be: from the cache, or by a `verify` that answers
   * synchronously (a synchronous Ed25519 engine), which leaves nothing under way for others to join.
   */
  verifyNow(
    key: string,
    signed: string,
    verify: () => boolean | Promise<boolean>,
  ): { ok: boolean; cached: boolean } | Promise<{ ok: boolean; cached: boolean }> {
    if (this.has(key, signed)) return { ok: true, cached: true };
    const running = this.#running.get(key);
    if (running?.signed === signed) {
      this.stats.hits++;
      return running.result.then((ok) => ({ ok, cached: true }));
    }
    this.stats.misses++;
    const now = verify();
    if (typeof now === 'boolean') {
      if (now) this.add(key, signed);
      return { ok: now, cached: false };
    }
    return this.#settle(key, signed, now);
  }

  async #settle(
    key: string,
    signed: string,
    result: Promise<boolean>,
  ): Promise<{ ok: boolean; cached: boolean }> {
    this.#running.set(key, { signed, result });
    try {
      const ok = await result;
      if (ok) this.add(key, signed);
      return { ok, cached: false };
    } finally {
      if (this.#running.get(key)?.result === result) this.#running.delete(key);
    }
  }

  /**
   * The verification of exactly this signed root under way, if any, counted as a hit as `verify`
   * counts joining it: a caller with many leaves of one new root waits on that one promise.
   */
  joinable(key: string, signed: string): Promise<boolean> | undefined {
    const running = this.#running.get(key);
    if (running?.signed !== signed) return undefined;
    this.stats.hits++;
    return running.result;
  }

  /**
   * `has(keyOf(kind, nodeId, root), signedOf(leafCount, issuedAtMs, signature))` (the fields of the
   * root's body, positional: no object per leaf) without building
   * either string (nor hashing them) for a root among the last RECENT_ROOTS found: the leaves of a few
   * batches arriving interleaved. Such a root is in the newer generation (the list is emptied when the
   * generations turn, and when an entry's key is signed anew), where `has` answers the same without
   * moving anything; numbers are compared as numbers only when both are numbers (equal numbers have
   * equal text).
   */
  hasRoot(
    kind: string,
    rootBody: { nodeId: string; root: string; leafCount?: unknown; issuedAtMs?: unknown },
    signature: string,
  ): boolean {
    const { nodeId, root, leafCount, issuedAtMs } = rootBody;
    if (typeof leafCount === 'number' && typeof issuedAtMs === 'number')
      for (let i = 0; i < this.#recent.length; i++) {
        const r = this.#recent[i]!;
        if (
          r.root === root &&
          r.signature === signature &&
          r.nodeId === nodeId &&
          r.kind === kind &&
          r.leafCount === leafCount &&
          r.issuedAtMs === issuedAtMs
        ) {
          this.stats.hits++;
          return true;
        }
      }
    const key = VerifiedRoots.keyOf(kind, nodeId, root);
    if (!this.has(key, VerifiedRoots.signedOf(leafCount, issuedAtMs, signature))) return false;
    if (typeof leafCount === 'number' && typeof issuedAtMs === 'number') {
      if (this.#recent.length >= RECENT_ROOTS) this.#recent.shift();
      this.#recent.push({ key, kind, nodeId, root, leafCount, issuedAtMs, signature });
    }
    return true;
  }

  /** What a cached root's value holds: the rest of what was signed. */
  static signedOf(leafCount: unknown, issuedAtMs: unknown, signature: string): string {
    return `${leafCount as number}\n${issuedAtMs as number}\n${signature}`;
  }

  /** Whether exactly this signed root was verified before (and keeps it among the recently used). */
  has(key: string, signed: string): boolean {
    if (this.#young.get(key) === signed) {
      this.stats.hits++;
      return true;
    }
    if (this.#old.get(key) !== signed) return false;
    this.#old.delete(key);
    this.add(key, signed);
    this.stats.hits++;
    return true;
  }

  add(key: string, signed: string): void {
    if (this.#young.size >= this.#generationSize && !this.#young.has(key)) {
      this.#old = this.#young;
      this.#young = new Map();
      this.#recent = [];
    } else if (this.#recent.length > 0 && this.#young.has(key))
      this.#recent = this.#recent.filter((r) => r.key !== key);
    this.#young.set(key, signed);
  }
}

/** Roots hasRoot compares by their fields before building a key: a few batches' worth arriving interleaved. */
const RECENT_ROOTS = 16;

interface RecentRoot {
  key: string;
  kind: string;
  nodeId: string;
  root: string;
  leafCount: number;
  issuedAtMs: number;
  signature: string;
}
