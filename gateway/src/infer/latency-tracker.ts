/** Samples kept per node for its latency percentile (a ring; old samples fall out). */
const SAMPLES_PER_NODE = 64;
/** Before a node has enough samples, hedge after this long (a typical p95 for small models here). */
export const DEFAULT_HEDGE_DELAY_MS = 50;
/** An attempt is never cut shorter than this: a round trip across the globe plus a model run fits. */
export const ATTEMPT_TIMEOUT_FLOOR_MS = 1_000;

interface NodeSamples {
  ring: Float64Array;
  count: number;
  /** The p95 of the samples as they are now; undefined after a new sample. */
  p95Ms: number | undefined;
}

/** Recent answer times per node, for the hedge delay (the first attempt's p95, as the issue asks). */
export class LatencyTracker {
  readonly #samples = new Map<string, NodeSamples>();
  /** Scratch for sorting a node's samples (a typed array sorts numerically, without a comparator). */
  readonly #sorting = new Float64Array(SAMPLES_PER_NODE);

  record(nodeId: string, latencyMs: number): void {
    let s = this.#samples.get(nodeId);
    if (!s)
      this.#samples.set(
        nodeId,
        (s = { ring: new Float64Array(SAMPLES_PER_NODE), count: 0, p95Ms: undefined }),
      );
    s.ring[s.count % SAMPLES_PER_NODE] = latencyMs;
    s.count++;
    s.p95Ms = undefined;
  }

  /** The node's p95 over its recent samples; computed once per new sample (a request asks twice: hedge delay and attempt timeout). */
  p95Ms(nodeId: string): number {
    const s = this.#samples.get(nodeId);
    if (!s || s.count < 8) return DEFAULT_HEDGE_DELAY_MS;
    if (s.p95Ms === undefined) {
      const n = Math.min(s.count, SAMPLES_PER_NODE);
      const sorted = this.#sorting.subarray(0, n);
      sorted.set(s.ring.subarray(0, n));
      sorted.sort();
      s.p95Ms = sorted[Math.min(n - 1, Math.ceil(n * 0.95) - 1)]!;
    }
    return s.p95Ms;
  }

  /**
   * How long an attempt on this node may run before the next candidate is tried: five times its p95
   * (an answer that late is an outlier, not a slow model), at least ATTEMPT_TIMEOUT_FLOOR_MS; half the
   * deadline for a node with no history yet, so a second candidate always fits.
   */
  attemptTimeoutMs(nodeId: string, deadlineMs: number): number {
    const s = this.#samples.get(nodeId);
    if (!s || s.count < 8) return deadlineMs / 2;
    return Math.min(deadlineMs, Math.max(ATTEMPT_TIMEOUT_FLOOR_MS, 5 * this.p95Ms(nodeId)));
  }

  forget(nodeId: string): void {
    this.#samples.delete(nodeId);
  }
}
