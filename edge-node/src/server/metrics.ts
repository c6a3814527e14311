import { PRIORITIES } from '@hexedge/protocol';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelSet } from './model-set.ts';

/**
 * The node's Prometheus metrics (prom-client, the standard Node client): requests by outcome, latency
 * histograms, batch sizes and queue depth per model, plus the process's own default metrics.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'hexedge_node_requests_total',
    help: 'Inference requests by model, version and outcome (ok or an error code)',
    labelNames: ['model', 'version', 'outcome'] as const,
    registers: [this.registry],
  });
  /** Genuine forwards refused by the replay guard (protocol's forward-replay.ts): captured ones sent again. */
  readonly forwardReplaysRefused = new Counter({
    name: 'hexedge_node_forward_replays_refused_total',
    help: 'Authenticated forwards refused as replays (replayed: served already; older-than-memory: older than the guard remembers under load)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /**
   * Forwards refused because their forwarder is not trusted (known-callers.ts), by why: an unknown
   * forwarder, or a gateway key its gateway replaced longer ago than the grace. Counted before the
   * signature is checked (a key id is public): many `retired-gateway-key` means something still sends
   * with the old key — a gateway instance left on it, or whoever holds a leaked copy.
   */
  readonly forwardersRefused = new Counter({
    name: 'hexedge_node_forwarders_refused_total',
    help: 'Forwards refused for their forwarder (unknown-forwarder; retired-gateway-key: a key the gateway replaced past the grace), before the signature check',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'hexedge_node_request_duration_seconds',
    help: 'Time from request received to answer ready, by model',
    labelNames: ['model', 'version'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'hexedge_node_batch_size',
    help: 'Rows per model run after dynamic batching',
    labelNames: ['model', 'version'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });

  /** Exchanges (POST /v2/exchange: several forwards in one HTTP request): served, or refused whole. */
  readonly exchanges = new Counter({
    name: 'hexedge_node_exchanges_total',
    help: 'Exchanges (several forwards in one HTTP request) by outcome: ok, or the error code of a malformed one refused whole',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly exchangeParts = new Histogram({
    name: 'hexedge_node_exchange_parts',
    help: 'Forwards per served exchange',
    buckets: [2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });

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

  /** Feed for the scheduler's `onBatch`. */
  readonly observeBatch = (info: { model: string; version: string; size: number }) =>
    this.batchSize.observe({ model: info.model, version: info.version }, info.size);

  /** Queue depth and in-flight gauges, read from the model set whenever Prometheus scrapes. */
  watch(models: ModelSet): void {
    const perModel = (name: string, help: string, pick: (s: ReturnType<ModelSet['resolve']>) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['model', 'version'] as const,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of models.all())
            this.set({ model: s.model.manifest.name, version: s.model.manifest.version }, pick(s));
        },
      });
    perModel('hexedge_node_queue_depth', 'Requests waiting in the model queue', (s) => s.queueDepth);
    perModel('hexedge_node_in_flight', 'Requests being run by the model', (s) => s.inFlight);
    new Gauge({
      name: 'hexedge_node_queued_by_priority',
      help: 'Requests waiting in the model queue, per priority level (low is refused first as it fills)',
      labelNames: ['model', 'version', 'priority'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of models.all())
          for (const priority of PRIORITIES)
            this.set(
              { model: s.model.manifest.name, version: s.model.manifest.version, priority },
              s.queuedAt(priority),
            );
      },
    });
  }
}
