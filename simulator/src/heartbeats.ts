/**
 * Heartbeats on the simulated clock, through the registry's trusted `adopt` (the seam: a signed
 * heartbeat costs ~0.1 ms of Ed25519 sign + verify, and 100k nodes at a 10 s interval send 864M a day).
 *
 * A heartbeat that repeats the last one changes nothing but `lastHeartbeatAtMs`, so those are elided:
 * the record carries the time of the node's *last heartbeat before its next failure* (its interval
 * grid, phase per node), which makes `statusOf` exactly what production would compute at every
 * instant — healthy while it beats, unhealthy 3 intervals after its last beat, evicted 10 min later —
 * with no event per beat. Heartbeats that carry news (load, models, drain) are delivered when it changes.
 */
import type { Placement } from '@hexedge/placement';
import type { ModelLoad } from '@hexedge/protocol';
import { modelEntries, type SimNode } from './nodes.ts';
import { MODELS, queueWaitMs, type ModelSpec } from './world.ts';

/** Reported queue depth of a saturated node (it answers 503 meanwhile). */
const SATURATED_QUEUE_DEPTH = 1000;

export class Heartbeats {
  readonly #placement: Placement;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #farFutureMs: number;
  readonly #utilisation: (node: SimNode) => number;
  readonly #serviceMs: (node: SimNode, m: ModelSpec) => number;
  sent = 0;

  constructor(o: { placement: Placement; intervalMs: number; now: () => number; farFutureMs: number; utilisation: (node: SimNode) => number; serviceMs: (node: SimNode, m: ModelSpec) => number }) {
    this.#placement = o.placement;
    this.#intervalMs = o.intervalMs;
    this.#now = o.now;
    this.#farFutureMs = o.farFutureMs;
    this.#utilisation = o.utilisation;
    this.#serviceMs = o.serviceMs;
  }

  /** The load a node's heartbeat reports: its own service-time EWMA, and a queue that makes placement's queueWaitMs the M/M/c wait. */
  loadOf(node: SimNode, m: ModelSpec): ModelLoad {
    const serviceMs = this.#serviceMs(node, m);
    const rho = this.#utilisation(node);
    const waitMs = queueWaitMs({ serviceMs, utilisation: rho, slots: node.slots });
    const queueDepth = Number.isFinite(waitMs) ? Math.round((waitMs * node.slots) / serviceMs) : SATURATED_QUEUE_DEPTH;
    const inFlight = queueDepth > 0 ? node.slots : Math.min(node.slots, Math.round(rho * node.slots));
    return { queueDepth, inFlight, ewmaServiceMs: Math.round(serviceMs * 10) / 10 };
  }

  sendIfChanged(node: SimNode): void {
    if (this.#reportKey(node) !== node.lastReported) this.send(node);
  }

  send(node: SimNode, o: { draining?: boolean } = {}): void {
    const current = this.#placement.registry.get(node.id);
    if (!current) return;
    const models = modelEntries(node, (m) => this.loadOf(node, m));
    node.lastReported = this.#reportKey(node);
    this.#placement.registry.adopt({
      ...current,
      models,
      lastSeq: current.lastSeq + 1,
      lastHeartbeatAtMs: o.draining ? this.#now() : this.#lastBeatBeforeFailure(node),
      draining: o.draining ?? false,
    });
    this.sent++;
  }

  /** What a heartbeat would say that placement acts on: readiness and queue per model. */
  #reportKey(node: SimNode): string {
    let key = '';
    for (const m of MODELS) {
      const ready = node.models.get(m.name);
      if (ready === undefined) continue;
      const load = this.loadOf(node, m);
      key += `${m.name}:${ready ? 1 : 0}:${load.queueDepth}:${load.inFlight};`;
    }
    return key;
  }

  #lastBeatBeforeFailure(node: SimNode): number {
    if (!Number.isFinite(node.nextFailureAtMs)) return this.#farFutureMs;
    const phase = node.heartbeatPhaseMs;
    const beat = phase + Math.floor((node.nextFailureAtMs - phase) / this.#intervalMs) * this.#intervalMs;
    return Math.max(beat, node.registeredAtMs, this.#now() - this.#intervalMs);
  }
}
