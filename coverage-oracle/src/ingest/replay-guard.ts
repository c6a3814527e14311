import type { NonceClaim, ReplayState } from '../store/records.ts';

/** Spent nonces ingest keeps in memory at most (~100 MB): far past 5 minutes of any fabric's reports. */
export const DEFAULT_MAX_REPLAY_NONCES = 1_000_000;

export type ReplayCheck = 'fresh' | 'replayed' | 'below-floor';

/**
 * Ingest's replay check in memory: (reporter, nonce) pairs spent within the acceptance window, each
 * first held as pending (its report is waiting for the group commit) and then as durable, or dropped
 * again when that commit fails. Rebuilt at start from the nonce rows committed together with their
 * reports, so memory and disk agree after a crash. Bounded: past `maxNonces` the oldest are forgotten
 * and the floor (a persisted watermark) rises to their issue time; a report issued at or below the
 * floor is refused, since its nonce may be among the forgotten.
 */
export class ReplayGuard {
  readonly #maxNonces: number;
  readonly #maxAgeMs: number;
  /** Key → expiry (durable) or `pending` (committing now). Insertion order ≈ arrival order. */
  readonly #entries = new Map<string, number | typeof PENDING>();
  #floorMs: number;
  /** A floor raised since the last commit, to be persisted with the next one. */
  #unsavedFloorMs: number | undefined;

  constructor(options: { state: ReplayState; maxAgeMs: number; maxNonces?: number }) {
    this.#maxNonces = Math.max(1, options.maxNonces ?? DEFAULT_MAX_REPLAY_NONCES);
    this.#maxAgeMs = options.maxAgeMs;
    this.#floorMs = options.state.floorMs;
    // Oldest first, so the oldest are the first forgotten.
    const loaded = [...options.state.nonces].sort((a, b) => a.expiresAtMs - b.expiresAtMs);
    for (const n of loaded) this.#entries.set(keyOf(n), n.expiresAtMs);
  }

  get floorMs(): number {
    return this.#floorMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Whether (reporter, nonce) may be spent now; `fresh` holds it as pending until `confirm` or `release`. */
  claim(claim: NonceClaim & { issuedAtMs: number; nowMs: number }): ReplayCheck {
    if (claim.issuedAtMs <= this.#floorMs) return 'below-floor';
    const key = keyOf(claim);
    const held = this.#entries.get(key);
    if (held === PENDING || (held !== undefined && held >= claim.nowMs)) return 'replayed';
    this.#entries.delete(key);
    this.#entries.set(key, PENDING);
    return 'fresh';
  }

  /** The claims' reports are durable: their nonces stay spent until they expire. */
  confirm(claims: readonly NonceClaim[], nowMs: number): void {
    for (const c of claims) this.#entries.set(keyOf(c), c.expiresAtMs);
    this.#forget(nowMs);
  }

  /** The claims' commit failed: their nonces were not spent after all. */
  release(claims: readonly NonceClaim[]): void {
    for (const c of claims) if (this.#entries.get(keyOf(c)) === PENDING) this.#entries.delete(keyOf(c));
  }

  /** The floor to persist with the next commit, if it rose since; taken once. */
  takeUnsavedFloor(): number | undefined {
    const floor = this.#unsavedFloorMs;
    this.#unsavedFloorMs = undefined;
    return floor;
  }

  /** Drops expired nonces from the front, then the oldest beyond the bound (raising the floor). */
  #forget(nowMs: number): void {
    for (const [key, held] of this.#entries) {
      if (held === PENDING) break;
      const overBound = this.#entries.size > this.#maxNonces;
      if (held >= nowMs && !overBound) break;
      this.#entries.delete(key);
      if (held >= nowMs) {
        // Forgotten while still replayable: refuse everything issued up to its issue time.
        this.#floorMs = Math.max(this.#floorMs, held - this.#maxAgeMs);
        this.#unsavedFloorMs = this.#floorMs;
      }
    }
  }
}

const PENDING = Symbol('pending');
/** A claim's key: its own when the caller made it with replayKey (once per report, not per step). */
const keyOf = (c: NonceClaim) => c.key ?? replayKey(c.nodeId, c.nonce);
export const replayKey = (nodeId: string, nonce: string): string => `${nodeId}\n${nonce}`;
