import { DEFAULT_SERVICE_MS } from './latency.ts';

/** Finagle's default decay time constant (`PeakEwma.DefaultDecayTime`, 10 s). */
export const PEAK_EWMA_DECAY_MS = 10_000;
/** A failed call counts as a sample at least this slow (and at least twice the current cost). */
export const FAILURE_PENALTY_MS = 2_000;

/**
 * Finagle's Peak-EWMA load metric (finagle-core `loadbalancer/PeakEwma`): an exponentially weighted
 * moving average of service time whose weight decays with *elapsed time*, not sample count, and which
 * jumps straight to any sample above it. A node that just turned slow is avoided at once; it earns its
 * way back as the slow sample decays.
 *
 * Finagle decays an idle host's cost towards 0 (so it gets probed); here it decays towards the node's
 * own reported service time, the best prior we have between samples.
 */
export class PeakEwma {
  #costMs: number;
  #stampMs: number;

  constructor(options: { initialMs: number; nowMs: number }) {
    this.#costMs = options.initialMs;
    this.#stampMs = options.nowMs;
  }

  /** Folds one sample in: jump up to a slower one, otherwise blend by elapsed time. */
  observe(sampleMs: number, nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.#stampMs);
    const weight = Math.exp(-elapsedMs / PEAK_EWMA_DECAY_MS);
    this.#costMs = sampleMs > this.#costMs ? sampleMs : this.#costMs * weight + sampleMs * (1 - weight);
    this.#stampMs = nowMs;
  }

  observeFailure(latencyMs: number, nowMs: number): void {
    this.observe(Math.max(latencyMs, 2 * this.#costMs, FAILURE_PENALTY_MS), nowMs);
  }

  /** Current cost, decayed towards `priorMs` for the time since the last sample (does not mutate). */
  getMs(nowMs: number, priorMs: number): number {
    if (priorMs >= this.#costMs) return priorMs;
    const weight = Math.exp(-Math.max(0, nowMs - this.#stampMs) / PEAK_EWMA_DECAY_MS);
    return this.#costMs * weight + priorMs * (1 - weight);
  }
}

/** Peak-EWMA per (node, model), fed by the gateway's outcome reports. */
export class ServiceTimes {
  readonly #byKey = new Map<string, PeakEwma>();

  /** The service-time estimate for a node's model; `reportedMs` is the node's own EWMA, if any. */
  estimateMs(options: { nodeId: string; model: string; reportedMs: number | undefined; nowMs: number }): number {
    const priorMs = options.reportedMs ?? DEFAULT_SERVICE_MS;
    const ewma = this.#byKey.get(keyOf(options.nodeId, options.model));
    return ewma ? ewma.getMs(options.nowMs, priorMs) : priorMs;
  }

  record(options: { nodeId: string; model: string; latencyMs: number; ok: boolean; nowMs: number; priorMs: number }): void {
    const key = keyOf(options.nodeId, options.model);
    let ewma = this.#byKey.get(key);
    if (!ewma) {
      ewma = new PeakEwma({ initialMs: options.priorMs, nowMs: options.nowMs });
      this.#byKey.set(key, ewma);
    }
    if (options.ok) ewma.observe(options.latencyMs, options.nowMs);
    else ewma.observeFailure(options.latencyMs, options.nowMs);
  }

  forgetNode(nodeId: string): void {
    const prefix = `${nodeId}\u0000`;
    for (const key of this.#byKey.keys()) if (key.startsWith(prefix)) this.#byKey.delete(key);
  }
}

const keyOf = (nodeId: string, model: string) => `${nodeId}\u0000${model}`;
