import { trimOldest } from '../oldest-first.ts';
import { MAX_FORWARD_SKEW_MS } from './forward-signature.ts';

/** Forwarded requests a node remembers by default: a minute of 1 600 requests a second. */
export const DEFAULT_FORWARD_REPLAY_ENTRIES = 100_000;

/**
 * The forwarded requests a node has served within the skew window, so a captured request (its
 * signature or MAC, its body) replayed to the same node inside that minute is refused instead of run
 * again: a forward signature proves who sent the request and when, not that it is new. Keyed by
 * forwarder, time and body digest (the gateway's body carries the request's id, so two requests never
 * share a key). An entry is kept while its time is inside the window the freshness check accepts;
 * older ones are dropped as requests arrive. Bounded: past `maxEntries` the oldest are forgotten (a
 * node answering more than that many forwards a minute remembers the most recent ones).
 */
export class ForwardReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_FORWARD_REPLAY_ENTRIES;
  }

  get size(): number {
    return this.#seen.size;
  }

  /** Whether this forward is new (and remembers it); false for one already served inside the window. */
  firstTime(forward: {
    forwarderId: string;
    issuedAtMs: number;
    bodyDigest: string;
    nowMs: number;
  }): boolean {
    const { issuedAtMs, nowMs } = forward;
    // Oldest first (requests arrive roughly in time order): stop at the first one still inside the window.
    for (const [key, atMs] of this.#seen) {
      if (atMs >= nowMs - MAX_FORWARD_SKEW_MS) break;
      this.#seen.delete(key);
    }
    const key = `${forward.forwarderId}\n${issuedAtMs}\n${forward.bodyDigest}`;
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, issuedAtMs);
    trimOldest(this.#seen, this.#maxEntries);
    return true;
  }
}
