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

/**
 * How long the gateway's own measurement of a node outweighs what the node says of itself: a measured
 * service time gives way to the node's claim with this time constant once no new sample arrives (a
 * node nobody sends traffic to is probed again after a few minutes, not never).
 */
export const MEASURED_MEMORY_MS = 60_000;

interface Measured {
  peak: PeakEwma;
  /** The last successful samples' average, and when it was last fed. */
  baselineMs?: number;
  baselineAtMs?: number;
}

/**
 * Peak-EWMA per (node, model), fed by the gateway's outcome reports. A node's own figure
 * (`ewmaServiceMs` in its heartbeat) is a claim: below DEFAULT_SERVICE_MS it is not believed until the
 * gateway has measured the node, and once measured, the measurement wins (a black-hole node reporting
 * 0 ms looks no faster than any unmeasured one, and no faster than the gateway saw it).
 */
export class ServiceTimes {
  readonly #byKey = new Map<string, Measured>();

  /** The service-time estimate for a node's model; `reportedMs` is the node's own EWMA, if any. */
  estimateMs(options: {
    nodeId: string;
    model: string;
    reportedMs: number | undefined;
    nowMs: number;
  }): number {
    const m = this.#byKey.get(keyOf(options.nodeId, options.model));
    const priorMs = priorOf(m, options.reportedMs, options.nowMs);
    return m ? m.peak.getMs(options.nowMs, priorMs) : priorMs;
  }

  record(options: {
    nodeId: string;
    model: string;
    latencyMs: number;
    ok: boolean;
    nowMs: number;
    reportedMs: number | undefined;
  }): void {
    const key = keyOf(options.nodeId, options.model);
    let m = this.#byKey.get(key);
    if (!m) {
      m = {
        peak: new PeakEwma({
          initialMs: priorOf(undefined, options.reportedMs, options.nowMs),
          nowMs: options.nowMs,
        }),
      };
      this.#byKey.set(key, m);
    }
    if (!options.ok) return m.peak.observeFailure(options.latencyMs, options.nowMs);
    m.peak.observe(options.latencyMs, options.nowMs);
    m.baselineMs =
      m.baselineMs === undefined
        ? options.latencyMs
        : BASELINE_SAMPLE_WEIGHT * options.latencyMs +
          (1 - BASELINE_SAMPLE_WEIGHT) * priorOf(m, options.reportedMs, options.nowMs);
    m.baselineAtMs = options.nowMs;
  }

  forgetNode(nodeId: string): void {
    const prefix = `${nodeId}\u0000`;
    for (const key of this.#byKey.keys()) if (key.startsWith(prefix)) this.#byKey.delete(key);
  }
}

/** Each success moves the measured baseline this far towards its own time (an average, not a peak). */
const BASELINE_SAMPLE_WEIGHT = 0.2;

/** What a node's cost decays to between samples: the gateway's measured baseline, fading into the (floored) claim. */
function priorOf(m: Measured | undefined, reportedMs: number | undefined, nowMs: number): number {
  const claimedMs = Math.max(reportedMs ?? DEFAULT_SERVICE_MS, DEFAULT_SERVICE_MS);
  if (m?.baselineMs === undefined) return claimedMs;
  const weight = Math.exp(-Math.max(0, nowMs - m.baselineAtMs!) / MEASURED_MEMORY_MS);
  return claimedMs + (m.baselineMs - claimedMs) * weight;
}

const keyOf = (nodeId: string, model: string) => `${nodeId}\u0000${model}`;
