import { MAX_FORWARD_SKEW_MS } from './forward-signature.ts';

/**
 * Forwards a node remembers at most by default: a full minute at ~1 600 forwards a second. Each entry
 * is its key (~150 bytes: forwarder, time, route, model, version, body digest) plus the Map's and the
 * queue's slots, so the full guard holds ~25 MB.
 */
export const DEFAULT_FORWARD_REPLAY_ENTRIES = 100_000;

/** The tail of a replay refusal's reason, so a forwarder can tell it from other refusals (and forward again). */
export const FORWARD_REPLAY_REFUSAL = 'was served already (a replay)';

/** What the guard says of one verified forward. */
export type ForwardReplayVerdict =
  | { ok: true }
  /** Served already inside the window: the same forwarder, time, route, model, version and body. */
  | { ok: false; refusal: 'replayed'; reason: string }
  /**
   * Older than what the guard still remembers under this load (it forgot forwards that old to stay
   * within `maxEntries`): it cannot tell a replay from a late forward, so it refuses it.
   */
  | { ok: false; refusal: 'older-than-memory'; reason: string };

/** One verified forward: what `checkForward` signed or MAC'd, less the target (the node itself). */
export interface ForwardSeen {
  forwarderId: string;
  issuedAtMs: number;
  route: string;
  modelName: string;
  modelVersion: string;
  bodyDigest: string;
  nowMs: number;
}

/** Queue slots already dropped from the front before the queue is compacted (amortised O(1) per entry). */
const COMPACT_AFTER = 4096;

/**
 * The forwards a node has served within the skew window, so a captured request (its signature or MAC,
 * its body) replayed to the same node inside that minute is refused instead of run again: a forward
 * signature proves who sent the request and when, not that it is new.
 *
 * Keyed by everything the signature or MAC covers except the target (this node): forwarder, time,
 * route, model name and version, body digest. Two honest forwards share a key only when a forwarder
 * sends the very same body to the same model on this node in the same millisecond; the gateway then
 * forwards again with a later time when refused (its forward-batcher.ts), so that costs a round trip,
 * never an answer.
 *
 * An entry is kept until its time leaves the window the freshness check accepts (`issuedAtMs +
 * MAX_FORWARD_SKEW_MS`, checked in arrival order). Bounded by `maxEntries` without ever forgetting
 * unsafely: when full, the oldest arrival is forgotten and its forwarder's horizon moves up to its
 * time; a forward of that forwarder from at or before the horizon is then refused (`older-than-memory`), since it cannot be
 * told from a replay. The horizon stays seconds behind now even at many times the default rate (at
 * 10 000 forwards a second, 10 s), and an honest gateway forwards within milliseconds, so only replays
 * and badly delayed requests meet it.
 */
export class ForwardReplayGuard {
  /** Key → issuedAtMs, for the forwards remembered. */
  readonly #seen = new Map<string, number>();
  /** The same keys in arrival order (a queue from `#head`), to expire and evict oldest-first. */
  #order: string[] = [];
  #head = 0;
  readonly #maxEntries: number;
  /**
   * Per forwarder, the newest time among its forwards forgotten early; its forwards at or before it
   * are refused. Per forwarder, so one whose clock runs ahead moves no other's horizon. Only verified
   * forwards enter the guard, so this holds at most one entry per known gateway or oracle.
   */
  readonly #horizonMs = new Map<string, number>();

  constructor(options: { maxEntries?: number } = {}) {
    const max = options.maxEntries ?? DEFAULT_FORWARD_REPLAY_ENTRIES;
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`maxEntries must be a positive integer, not ${max}`);
    this.#maxEntries = max;
  }

  get size(): number {
    return this.#seen.size;
  }

  /** The time at or before which a forwarder's forwards are refused for want of memory (-Infinity: none forgotten early). */
  horizonMsOf(forwarderId: string): number {
    return this.#horizonMs.get(forwarderId) ?? -Infinity;
  }

  /** Whether this verified forward is new; a new one is remembered. */
  admit(forward: ForwardSeen): ForwardReplayVerdict {
    const { issuedAtMs, nowMs } = forward;
    this.#expire(nowMs);
    const key = `${forward.forwarderId}\n${issuedAtMs}\n${forward.route}\n${forward.modelName}\n${forward.modelVersion}\n${forward.bodyDigest}`;
    const from = `this request from ${forward.forwarderId}, forwarded at ${issuedAtMs},`;
    if (this.#seen.has(key))
      return { ok: false, refusal: 'replayed', reason: `${from} ${FORWARD_REPLAY_REFUSAL}` };
    const horizonMs = this.horizonMsOf(forward.forwarderId);
    if (issuedAtMs <= horizonMs)
      return {
        ok: false,
        refusal: 'older-than-memory',
        reason: `${from} is older than the forwards this node still remembers under its load (it refuses those forwarded at or before ${horizonMs}: it cannot tell them from replays)`,
      };
    while (this.#seen.size >= this.#maxEntries) {
      const oldest = this.#shift();
      const atMs = this.#seen.get(oldest)!;
      this.#seen.delete(oldest);
      const forwarderId = oldest.slice(0, oldest.indexOf('\n'));
      if (atMs > this.horizonMsOf(forwarderId)) this.#horizonMs.set(forwarderId, atMs);
    }
    this.#seen.set(key, issuedAtMs);
    this.#order.push(key);
    return { ok: true };
  }

  /** Drops forwards the freshness check would refuse anyway, oldest arrival first (stops at the first still inside). */
  #expire(nowMs: number): void {
    const oldestKeptMs = nowMs - MAX_FORWARD_SKEW_MS;
    while (this.#head < this.#order.length) {
      const key = this.#order[this.#head]!;
      if (this.#seen.get(key)! >= oldestKeptMs) break;
      this.#seen.delete(key);
      this.#shift();
    }
  }

  #shift(): string {
    const key = this.#order[this.#head++]!;
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
    return key;
  }
}
