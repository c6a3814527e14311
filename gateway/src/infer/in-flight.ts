import { HexEdgeError, type Priority } from '@hexedge/protocol';

/** Requests one caller (API key, MQTT client, the firmware bridge) may have in progress at once. */
export const DEFAULT_MAX_IN_FLIGHT_PER_CALLER = 128;
/** Requests the gateway works on at once, all callers together; past it new ones get 503. */
export const DEFAULT_MAX_IN_FLIGHT = 2048;
/** What a refused caller is told to wait: slots free up as requests finish, typically within a second. */
const RETRY_AFTER_MS = 1_000;
/**
 * The share of a caller's in-flight allowance its high-priority requests may take: priority is for a
 * tenant's urgent few, so a tenant that marks everything high is refused (429, its own share) instead
 * of pushing every other tenant's traffic down the nodes' queues.
 */
export const HIGH_PRIORITY_SHARE = 0.25;

/**
 * Bounds the requests in progress, per caller and overall. Every waiting request holds its body,
 * its node connection and a timer for up to its deadline, so without a bound one key (or a burst of
 * many) could park enough of them to exhaust the gateway. A caller over its own bound gets 429
 * RATE_LIMITED, everyone past the overall bound 503 OVERLOADED, both with Retry-After.
 */
export class InFlightLimiter {
  readonly #perCaller = new Map<string, number>();
  readonly #highPerCaller = new Map<string, number>();
  readonly #maxPerCaller: number;
  readonly #maxTotal: number;
  #total = 0;

  constructor(options: { maxPerCaller?: number; maxTotal?: number } = {}) {
    this.#maxPerCaller = options.maxPerCaller ?? DEFAULT_MAX_IN_FLIGHT_PER_CALLER;
    this.#maxTotal = options.maxTotal ?? DEFAULT_MAX_IN_FLIGHT;
  }

  get inFlight(): number {
    return this.#total;
  }

  /** The overall bound (optional work, such as a rollout's mirrors, is shed well before it). */
  get maxTotal(): number {
    return this.#maxTotal;
  }

  /** Takes a slot for `callerId` or throws; the returned function gives it back (call it once). */
  acquire(callerId: string, priority?: Priority): () => void {
    const mine = this.#perCaller.get(callerId) ?? 0;
    const high = priority === 'high';
    const maxHigh = Math.max(1, Math.floor(this.#maxPerCaller * HIGH_PRIORITY_SHARE));
    const mineHigh = this.#highPerCaller.get(callerId) ?? 0;
    if (high && mineHigh >= maxHigh) {
      throw new HexEdgeError(
        'RATE_LIMITED',
        `caller ${callerId} already has ${mineHigh} high-priority requests in progress (limit ${maxHigh}, ${HIGH_PRIORITY_SHARE * 100}% of its ${this.#maxPerCaller}); send more at normal priority or wait`,
        { retryAfterMs: RETRY_AFTER_MS, limit: maxHigh },
      );
    }
    if (mine >= this.#maxPerCaller) {
      throw new HexEdgeError(
        'RATE_LIMITED',
        `caller ${callerId} already has ${mine} requests in progress (limit ${this.#maxPerCaller}); wait for answers before sending more`,
        {
          retryAfterMs: RETRY_AFTER_MS,
          limit: this.#maxPerCaller,
        },
      );
    }
    if (this.#total >= this.#maxTotal) {
      throw new HexEdgeError(
        'OVERLOADED',
        `the gateway has ${this.#total} requests in progress (limit ${this.#maxTotal}); retry shortly`,
        {
          retryAfterMs: RETRY_AFTER_MS,
        },
      );
    }
    this.#perCaller.set(callerId, mine + 1);
    if (high) this.#highPerCaller.set(callerId, mineHigh + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      if (high) {
        const leftHigh = (this.#highPerCaller.get(callerId) ?? 1) - 1;
        if (leftHigh <= 0) this.#highPerCaller.delete(callerId);
        else this.#highPerCaller.set(callerId, leftHigh);
      }
      const left = (this.#perCaller.get(callerId) ?? 1) - 1;
      if (left <= 0) this.#perCaller.delete(callerId);
      else this.#perCaller.set(callerId, left);
    };
  }
}
