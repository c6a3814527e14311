import type { LatLng } from '@hexedge/protocol';

/** One inference request as the gateway saw it (HTTP or MQTT), for the dashboards' statistics. */
export interface RequestObservation {
  atMs: number;
  keyId: string;
  model: string;
  ok: boolean;
  /** Error code when `ok` is false. */
  code?: string;
  /** What the caller waited, end to end at the gateway. */
  totalMs: number;
  /** Time the node reported spending on the model (its signed receipt), when a node answered. */
  serviceMs?: number;
  /** Where the request said it came from (demand and latency are shown there). */
  location?: LatLng;
  /** The caller's region (ISO country where known), for latency by region. */
  region?: string;
  nodeId?: string;
}

/** Recent requests kept for hex and region aggregates: at 100 req/s, the last 100 s; at 1 req/s, hours. */
export const MAX_OBSERVATIONS = 10_000;
/** Service-time samples kept per node for its p50/p99 (a ring; old samples fall out). */
export const NODE_LATENCY_SAMPLES = 512;
/** Nodes tracked at once; a registry far larger than this is a fleet this in-memory log is not for. */
const MAX_TRACKED_NODES = 10_000;

export interface NodeServiceStats {
  requests: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  lastServedAtMs: number | null;
}

/** The q-quantile (0–1) of numbers by nearest rank; null for none. */
export function quantile(values: ArrayLike<number>, q: number): number | null {
  if (values.length === 0) return null;
  const sorted = Array.from(values).sort((a, b) => a - b);
  const ms = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return Math.round(ms * 1000) / 1000;
}

/**
 * Recent inference requests in a bounded ring, plus per-node counters since start. In memory: the
 * dashboards' numbers are live views, not billing (metering is the usage book's and the oracle's).
 */
export class RequestLog {
  readonly #ring: RequestObservation[] = [];
  #next = 0;
  readonly #byNode = new Map<string, { requests: number; errors: number; samples: Float64Array; count: number; lastMs: number }>();

  record(obs: RequestObservation): void {
    if (this.#ring.length < MAX_OBSERVATIONS) this.#ring.push(obs);
    else this.#ring[this.#next] = obs;
    this.#next = (this.#next + 1) % MAX_OBSERVATIONS;
    if (!obs.nodeId) return;
    let n = this.#byNode.get(obs.nodeId);
    if (!n) {
      if (this.#byNode.size >= MAX_TRACKED_NODES) return;
      this.#byNode.set(obs.nodeId, (n = { requests: 0, errors: 0, samples: new Float64Array(NODE_LATENCY_SAMPLES), count: 0, lastMs: 0 }));
    }
    n.requests++;
    n.lastMs = obs.atMs;
    if (!obs.ok) n.errors++;
    else if (obs.serviceMs !== undefined) n.samples[n.count++ % NODE_LATENCY_SAMPLES] = obs.serviceMs;
  }

  /** Oldest first. */
  observations(sinceMs = 0): RequestObservation[] {
    const ordered = this.#ring.length < MAX_OBSERVATIONS ? this.#ring : [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
    return sinceMs > 0 ? ordered.filter((o) => o.atMs >= sinceMs) : ordered;
  }

  nodeStats(nodeId: string): NodeServiceStats {
    const n = this.#byNode.get(nodeId);
    if (!n) return { requests: 0, errors: 0, p50Ms: null, p99Ms: null, lastServedAtMs: null };
    const samples = n.samples.subarray(0, Math.min(n.count, NODE_LATENCY_SAMPLES));
    return { requests: n.requests, errors: n.errors, p50Ms: quantile(samples, 0.5), p99Ms: quantile(samples, 0.99), lastServedAtMs: n.lastMs };
  }

  /** A key's requests: latency by caller region and counts per minute over the last `windowMs`. */
  keyDetail(options: { keyId: string; nowMs: number; windowMs: number; bucketMs: number }) {
    const { keyId, nowMs, windowMs, bucketMs } = options;
    const mine = this.observations(nowMs - windowMs).filter((o) => o.keyId === keyId);
    const regions = new Map<string, { requests: number; errors: number; latencies: number[] }>();
    const firstBucketMs = Math.floor((nowMs - windowMs) / bucketMs + 1) * bucketMs;
    const timeline = Array.from({ length: Math.round(windowMs / bucketMs) }, (_, i) => ({ atMs: firstBucketMs + i * bucketMs, requests: 0, errors: 0 }));
    for (const o of mine) {
      const region = o.region ?? 'unknown';
      let r = regions.get(region);
      if (!r) regions.set(region, (r = { requests: 0, errors: 0, latencies: [] }));
      r.requests++;
      if (o.ok) r.latencies.push(o.totalMs);
      else r.errors++;
      const slot = timeline[Math.floor((o.atMs - firstBucketMs) / bucketMs)];
      if (slot) {
        slot.requests++;
        if (!o.ok) slot.errors++;
      }
    }
    return {
      regions: [...regions]
        .map(([region, r]) => ({ region, requests: r.requests, errors: r.errors, p50Ms: quantile(r.latencies, 0.5), p99Ms: quantile(r.latencies, 0.99) }))
        .sort((a, b) => b.requests - a.requests),
      timeline,
    };
  }
}
