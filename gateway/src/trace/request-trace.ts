import {
  formatTraceparent,
  parseTraceparent,
  safeParseReceiptMetadata,
  startHop,
  type HopSpan,
  type ReceiptMetadata,
  type TraceContext,
} from '@hexedge/protocol';
import type { TraceBook, TraceHop, TraceRecord } from './trace-book.ts';

const TRACER = 'hexedge-gateway';
const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * One request's trace at the gateway: the gateway's server span (a child of the caller's traceparent,
 * or a new trace), a client span per node attempt whose context goes to the node in `traceparent`,
 * and the per-hop timings the developer dashboard shows (placement, cache, node with its queue and run
 * from the receipt's metadata, receipt check). Spans go through @opentelemetry/api (no-op unless an
 * SDK is registered); the timings go to the TraceBook either way.
 */
export class RequestTrace {
  readonly #span: HopSpan;
  readonly #parent: TraceContext | undefined;
  readonly #startedPerf = performance.now();
  readonly #atMs = Date.now();
  readonly #hops: TraceHop[] = [];
  readonly #model: string;
  readonly #channel: TraceRecord['channel'];

  constructor(o: { parent?: TraceContext | undefined; model: string; channel: TraceRecord['channel'] }) {
    this.#parent = o.parent;
    this.#model = o.model;
    this.#channel = o.channel;
    this.#span = startHop({
      tracer: TRACER,
      name: `gateway infer ${o.model}`,
      kind: 'server',
      parent: o.parent,
      attributes: { 'hexedge.model': o.model, 'hexedge.channel': o.channel },
    });
  }

  /** The gateway's own context: what receipts forwarded to the oracle and answers to devices carry. */
  get context(): TraceContext {
    return this.#span.context;
  }

  get traceparent(): string {
    return formatTraceparent(this.#span.context);
  }

  /** A hop that ran from `startPerf` to now (performance.now() times). */
  mark(hop: string, startPerf: number, extra: Omit<TraceHop, 'hop' | 'startMs' | 'durationMs'> = {}): void {
    this.#hops.push({
      hop,
      startMs: round3(Math.max(0, startPerf - this.#startedPerf)),
      durationMs: round3(performance.now() - startPerf),
      ...extra,
    });
  }

  /** Starts the client span of one attempt on a node; its context goes to the node in `traceparent`. */
  forward(nodeId: string): {
    context: TraceContext;
    end(o: { ok: boolean; metadata?: ReceiptMetadata; detail?: string; answeredPerf?: number }): void;
  } {
    const startedPerf = performance.now();
    const span = startHop({
      tracer: TRACER,
      name: `gateway forward to node`,
      kind: 'client',
      parent: this.#span.context,
      attributes: { 'hexedge.node_id': nodeId },
    });
    return {
      context: span.context,
      end: ({ ok, metadata, detail, answeredPerf }) => {
        // The client span ends when the answer arrived (the receipt check is a hop of its own).
        const end = answeredPerf !== undefined ? { endTimeMs: performance.timeOrigin + answeredPerf } : {};
        span.end(ok ? end : { ...end, error: detail ?? 'node fault' });
        const at = round3(startedPerf - this.#startedPerf);
        const durationMs = round3((answeredPerf ?? performance.now()) - startedPerf);
        this.#hops.push({
          hop: 'node',
          startMs: at,
          durationMs,
          nodeId,
          spanId: span.context.spanId,
          ok,
          ...(detail ? { detail } : {}),
        });
        if (!metadata) return;
        const nodeSpan = parseTraceparent(metadata.traceparent)?.spanId;
        // The node's queue and run, placed inside its round trip (the network shares the rest).
        const inside = (metadata.queueMs ?? 0) + (metadata.runMs ?? 0);
        const netMs = Math.max(0, (durationMs - inside) / 2);
        if (metadata.queueMs !== undefined)
          this.#hops.push({
            hop: 'node-queue',
            startMs: round3(at + netMs),
            durationMs: metadata.queueMs,
            nodeId,
            ...(nodeSpan ? { spanId: nodeSpan } : {}),
          });
        if (metadata.runMs !== undefined)
          this.#hops.push({
            hop: 'node-run',
            startMs: round3(at + netMs + (metadata.queueMs ?? 0)),
            durationMs: metadata.runMs,
            nodeId,
            ...(nodeSpan ? { spanId: nodeSpan } : {}),
          });
      },
    };
  }

  /**
   * What a node put beside its receipt, kept only where it belongs to this trace: a node may write
   * anything there (it is unsigned), so a traceparent of another trace is dropped, and numbers are
   * taken only within the schema's bounds.
   */
  nodeMetadata(raw: unknown): ReceiptMetadata | undefined {
    const parsed = safeParseReceiptMetadata(raw);
    if (!parsed.success) return undefined;
    const { traceparent, ...rest } = parsed.data;
    const ctx = parseTraceparent(traceparent);
    return { ...rest, ...(ctx && ctx.traceId === this.#span.context.traceId ? { traceparent } : {}) };
  }

  /** Ends the gateway's span and files the timings under the request id for the dashboard. */
  finish(o: {
    book?: TraceBook | undefined;
    tenant: string | undefined;
    requestId: string | undefined;
    ok: boolean;
    code?: string;
    cache?: string;
  }): void {
    const totalMs = round3(performance.now() - this.#startedPerf);
    this.#span.end({
      ...(o.ok ? {} : { error: o.code ?? 'error' }),
      attributes: {
        ...(o.requestId ? { 'hexedge.request_id': o.requestId } : {}),
        ...(o.cache ? { 'hexedge.cache': o.cache } : {}),
      },
    });
    if (!o.book || o.tenant === undefined || o.requestId === undefined) return;
    o.book.record({
      requestId: o.requestId,
      tenant: o.tenant,
      traceId: this.#span.context.traceId,
      ...(this.#parent ? { callerSpanId: this.#parent.spanId } : {}),
      model: this.#model,
      channel: this.#channel,
      atMs: this.#atMs,
      totalMs,
      ok: o.ok,
      ...(o.code ? { code: o.code } : {}),
      ...(o.cache ? { cache: o.cache } : {}),
      hops: [
        { hop: 'gateway', startMs: 0, durationMs: totalMs, spanId: this.#span.context.spanId, ok: o.ok },
        ...this.#hops,
      ],
    });
  }
}
