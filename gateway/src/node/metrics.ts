import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayObserver } from '../observe.ts';

/**
 * The gateway's Prometheus metrics (prom-client), fed through the neutral GatewayObserver hooks:
 * HTTP requests by route pattern, method and status with latency histograms; inferences by model and
 * outcome with total and placement time; nodes tried per request (failovers and hedges); receipts
 * checked; plus gauges read at scrape time (MQTT messages in flight per ingress, nodes by status,
 * receipts waiting to be forwarded) and the process's default metrics. `promtool check metrics`
 * passes on the output (tested).
 */
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class GatewayMetrics implements GatewayObserver {
  readonly registry = new Registry();
  readonly #http = new Counter({
    name: 'hexedge_gateway_http_requests_total',
    help: 'HTTP requests by route pattern, method and status code',
    labelNames: ['route', 'method', 'code'] as const,
    registers: [this.registry],
  });
  readonly #httpSeconds = new Histogram({
    name: 'hexedge_gateway_http_request_duration_seconds',
    help: 'HTTP request handling time by route pattern',
    labelNames: ['route'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly #inferences = new Counter({
    name: 'hexedge_gateway_inferences_total',
    help: 'Inferences through every channel (HTTP, MQTT, firmware bridge) by model and outcome (ok or an error code)',
    labelNames: ['model', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #inferSeconds = new Histogram({
    name: 'hexedge_gateway_inference_duration_seconds',
    help: 'Inference time at the gateway, request to answer, by model',
    labelNames: ['model'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly #placementSeconds = new Histogram({
    name: 'hexedge_gateway_placement_duration_seconds',
    help: 'Time to a failover list (validation, authorisation, placement)',
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly #attempts = new Histogram({
    name: 'hexedge_gateway_nodes_tried',
    help: 'Nodes tried per answered request (above 1: failed over or hedged)',
    buckets: [1, 2, 3, 4],
    registers: [this.registry],
  });
  readonly #failovers = new Counter({
    name: 'hexedge_gateway_failovers_total',
    help: 'Answered requests that needed more than one node (failover or hedge)',
    registers: [this.registry],
  });
  readonly #receipts = new Counter({
    name: 'hexedge_gateway_receipts_checked_total',
    help: 'Node receipts checked against what was sent and returned, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly #cacheLookups = new Counter({
    name: 'hexedge_gateway_cache_lookups_total',
    help: 'Response cache lookups by result: hit, miss, bypass (opted out) or uncacheable (model not deterministic or not catalogued)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly #cacheEvictions = new Counter({
    name: 'hexedge_gateway_cache_evictions_total',
    help: 'Response cache entries dropped, by reason: lru (bounds), expired (TTL) or invalid (node lost standing, model changed)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Distinct model labels kept; past this, inferences of new names count under "other" (bounded series). */
  static readonly MAX_MODEL_LABELS = 256;
  readonly #models = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // prom-client's `nodejs_active_*_total` are gauges with a counter's suffix: promtool warns on them,
    // and `nodejs_active_handles` / `_requests` / `_resources` (by type) carry the same information.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ])
      this.registry.removeSingleMetric(name);
  }

  /** A gauge whose value is read when Prometheus scrapes (in-flight counts, queue lengths). */
  gauge(o: {
    name: string;
    help: string;
    labels?: readonly string[];
    read: () => Array<{ labels?: Record<string, string>; value: number }>;
  }): void {
    new Gauge({
      name: o.name,
      help: o.help,
      labelNames: [...(o.labels ?? [])],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { labels, value } of o.read()) {
          if (labels) this.set(labels, value);
          else this.set(value);
        }
      },
    });
  }

  /** A counter kept elsewhere (a component's own stats), read when Prometheus scrapes; its name ends in _total. */
  externalCounter(o: {
    name: string;
    help: string;
    labels: readonly string[];
    read: () => Array<{ labels: Record<string, string>; value: number }>;
  }): void {
    new Counter({
      name: o.name,
      help: o.help,
      labelNames: [...o.labels],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { labels, value } of o.read()) this.inc(labels, value);
      },
    });
  }

  httpRequest(o: { route: string; method: string; status: number; seconds: number }): void {
    this.#http.inc({ route: o.route, method: o.method, code: String(o.status) });
    this.#httpSeconds.observe({ route: o.route }, o.seconds);
  }

  inference(o: { model: string; outcome: string; seconds: number; placementSeconds?: number }): void {
    const model = this.#modelLabel(o.model);
    this.#inferences.inc({ model, outcome: o.outcome });
    this.#inferSeconds.observe({ model }, o.seconds);
    if (o.placementSeconds !== undefined) this.#placementSeconds.observe(o.placementSeconds);
  }

  walk(o: { attempts: number }): void {
    this.#attempts.observe(o.attempts);
    if (o.attempts > 1) this.#failovers.inc();
  }

  receiptChecked(ok: boolean): void {
    this.#receipts.inc({ result: ok ? 'ok' : 'bad' });
  }

  /** One response-cache lookup (InferCache's onLookup). */
  cacheLookup = (result: string): void => {
    this.#cacheLookups.inc({ result });
  };

  /** One response-cache eviction (InferCache's onEvict). */
  cacheEvicted = (reason: string): void => {
    this.#cacheEvictions.inc({ reason });
  };

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** A caller names any model it likes: only the first MAX_MODEL_LABELS names get series of their own. */
  #modelLabel(model: string): string {
    if (this.#models.has(model)) return model;
    if (this.#models.size >= GatewayMetrics.MAX_MODEL_LABELS) return 'other';
    this.#models.add(model);
    return model;
  }
}
