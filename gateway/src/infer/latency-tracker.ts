/** Samples kept per node for its latency percentile (a ring; old samples fall out). */
const SAMPLES_PER_NODE = 64;
/** Before a node has enough samples, hedge after this long (a typical p95 for small models here). */
export const DEFAULT_HEDGE_DELAY_MS = 50;

/** Recent answer times per node, for the hedge delay (the first attempt's p95, as the issue asks). */
export class LatencyTracker {
  readonly #samples = new Map<string, { ring: Float64Array; count: number }>();

  record(nodeId: string, latencyMs: number): void {
    let s = this.#samples.get(nodeId);
    if (!s) this.#samples.set(nodeId, (s = { ring: new Float64Array(SAMPLES_PER_NODE), count: 0 }));
    s.ring[s.count % SAMPLES_PER_NODE] = latencyMs;
    s.count++;
  }

  p95Ms(nodeId: string): number {
    const s = this.#samples.get(nodeId);
    if (!s || s.count < 8) return DEFAULT_HEDGE_DELAY_MS;
    const sorted = Array.from(s.ring.subarray(0, Math.min(s.count, SAMPLES_PER_NODE))).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!;
  }

  forget(nodeId: string): void {
    this.#samples.delete(nodeId);
  }
}
