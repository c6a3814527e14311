/** Consecutive failed calls that open a node's circuit: past jitter, a node failing this often is broken or hostile. */
export const BREAKER_FAILURE_STREAK = 5;
/** How long an opened circuit keeps a node out of every failover list; doubled on each trip in a row. */
export const BREAKER_OPEN_MS = 30_000;
export const BREAKER_MAX_OPEN_MS = 10 * 60_000;
/** The error rate forgets with this time constant (like Peak-EWMA's decay, but slower: errors are rarer). */
export const ERROR_RATE_DECAY_MS = 60_000;

interface Health {
  /** Failures since the last success. */
  streak: number;
  /** Time-decayed share of failed calls, 0–1. */
  errorRate: number;
  stampMs: number;
  /** Trips in a row without a success in between (sets the next open period). */
  trips: number;
  openUntilMs: number;
}

/**
 * Each node's record of failed calls as the gateway saw them (5xx, timeouts, bad receipts, refusals
 * of requests it had validated): a decaying error rate that costs the node in the score, and a circuit
 * breaker that takes it off every failover list after BREAKER_FAILURE_STREAK failures in a row. After
 * the open period the node is half-open: one more failure opens it again (for twice as long), a
 * success closes it. Backpressure (`overloaded`) counts in the rate but never trips the breaker.
 */
export class NodeHealthBook {
  readonly #byNode = new Map<string, Health>();

  record(options: { nodeId: string; ok: boolean; overloaded?: boolean; nowMs: number }): void {
    const { nodeId, ok, nowMs } = options;
    let h = this.#byNode.get(nodeId);
    if (!h)
      this.#byNode.set(nodeId, (h = { streak: 0, errorRate: 0, stampMs: nowMs, trips: 0, openUntilMs: 0 }));
    const weight = Math.exp(-Math.max(0, nowMs - h.stampMs) / ERROR_RATE_DECAY_MS);
    // Each call moves the rate at least 1/8 of the way, so a burst of failures shows at once.
    const keep = Math.min(weight, 7 / 8);
    h.errorRate = h.errorRate * keep + (ok ? 0 : 1) * (1 - keep);
    h.stampMs = nowMs;
    if (ok) {
      h.streak = 0;
      h.trips = 0;
      h.openUntilMs = 0;
      return;
    }
    if (options.overloaded) return;
    h.streak++;
    const halfOpen = h.trips > 0 && nowMs >= h.openUntilMs;
    if (h.streak >= BREAKER_FAILURE_STREAK || halfOpen) {
      h.trips++;
      h.openUntilMs = nowMs + Math.min(BREAKER_MAX_OPEN_MS, BREAKER_OPEN_MS * 2 ** (h.trips - 1));
      h.streak = 0;
    }
  }

  /** True while the node's circuit is open: no request is sent to it. */
  isOpen(nodeId: string, nowMs: number): boolean {
    const h = this.#byNode.get(nodeId);
    return h !== undefined && nowMs < h.openUntilMs;
  }

  errorRate(nodeId: string, nowMs: number): number {
    const h = this.#byNode.get(nodeId);
    if (!h) return 0;
    return h.errorRate * Math.exp(-Math.max(0, nowMs - h.stampMs) / ERROR_RATE_DECAY_MS);
  }

  forgetNode(nodeId: string): void {
    this.#byNode.delete(nodeId);
  }
}
