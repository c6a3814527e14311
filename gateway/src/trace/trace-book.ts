import { trimOldest } from '@hexedge/protocol';
/** One hop of a request as the gateway saw it, for the developer dashboard's per-hop timings. */
export interface TraceHop {
  /** `device` (the caller's span), `gateway`, `placement`, `cache`, `node`, `node-queue`, `node-run`, `receipt-check`, `spot-check`. */
  hop: string;
  /** Start, ms after the request reached the gateway (a spot check starts later, after the answer). */
  startMs: number;
  durationMs: number;
  nodeId?: string;
  /** The hop's own span id (W3C), where it has one. */
  spanId?: string;
  ok?: boolean;
  detail?: string;
}

export interface TraceRecord {
  requestId: string;
  /** Who may read it: the tenant that sent the request (`key:{id}`, `device:{id}`, `fleet:{name}`). */
  tenant: string;
  traceId: string;
  /** The caller's own span (its traceparent's parent id), when it sent one. */
  callerSpanId?: string;
  model: string;
  channel: 'http' | 'mqtt' | 'bridge';
  atMs: number;
  totalMs: number;
  ok: boolean;
  code?: string;
  cache?: string;
  hops: TraceHop[];
}

/** Requests whose traces are kept (per gateway, in memory): at 100 req/s, the last 100 s. */
export const MAX_TRACES = 10_000;
/** Spot checks recorded per trace at most (an oracle re-runs a sample on a few checkers). */
const MAX_SPOT_CHECKS = 16;

/**
 * Recent requests' traces by (tenant, request id), with an index by trace id so a spot check that
 * comes back later (the oracle's re-run carries the trace) is added to its request. Bounded: the
 * oldest is forgotten first. In memory: a live view for the dashboard; exporting is OpenTelemetry's.
 */
export class TraceBook {
  readonly #byRequest = new Map<string, TraceRecord>();
  readonly #byTrace = new Map<string, string>();
  readonly #max: number;

  constructor(options: { maxTraces?: number } = {}) {
    this.#max = options.maxTraces ?? MAX_TRACES;
  }

  get size(): number {
    return this.#byRequest.size;
  }

  record(trace: TraceRecord): void {
    const key = `${trace.tenant}\u0000${trace.requestId}`;
    const old = this.#byRequest.get(key);
    if (old) {
      this.#byRequest.delete(key);
      if (this.#byTrace.get(old.traceId) === key) this.#byTrace.delete(old.traceId);
    }
    this.#byRequest.set(key, trace);
    // A trace id is the caller's to choose: the first tenant to use one keeps it, so another tenant
    // reusing it cannot have that request's spot checks filed under its own request.
    const holder = this.#byRequest.get(this.#byTrace.get(trace.traceId) ?? '');
    if (!holder || holder.tenant === trace.tenant) this.#byTrace.set(trace.traceId, key);
    trimOldest(this.#byRequest, this.#max, (oldestKey, oldest) => {
      if (this.#byTrace.get(oldest.traceId) === oldestKey) this.#byTrace.delete(oldest.traceId);
    });
  }

  /** A tenant's own request; undefined for anyone else's (the route answers 404 alike). */
  get(tenant: string, requestId: string): TraceRecord | undefined {
    return this.#byRequest.get(`${tenant}\u0000${requestId}`);
  }

  /** Every tenant's requests with this id (the admin's view). */
  find(requestId: string): TraceRecord[] {
    return [...this.#byRequest.values()].filter((t) => t.requestId === requestId);
  }

  byTraceId(traceId: string): TraceRecord | undefined {
    const key = this.#byTrace.get(traceId);
    return key ? this.#byRequest.get(key) : undefined;
  }

  /** Adds a spot check's re-run to the request whose trace it carried; false when that trace is unknown here. */
  addSpotCheck(traceId: string, hop: Omit<TraceHop, 'hop' | 'startMs'> & { atMs: number }): boolean {
    const trace = this.byTraceId(traceId);
    if (!trace || trace.hops.filter((h) => h.hop === 'spot-check').length >= MAX_SPOT_CHECKS) return false;
    const { atMs, ...rest } = hop;
    trace.hops.push({ hop: 'spot-check', startMs: Math.max(0, atMs - trace.atMs), ...rest });
    return true;
  }
}
