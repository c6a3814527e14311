import {
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { childTraceContext, newTraceContext, type TraceContext } from './trace-context.ts';

/**
 * One hop of a request's trace, exported through `@opentelemetry/api`: with no SDK registered (the
 * default) the API is a no-op and costs next to nothing; a deployment that registers a tracer
 * provider with an exporter (`node --import ./otel-setup.mjs …`, see gateway/README.md) gets every
 * hop as a span. Either way the hop has a trace context of its own to pass on (W3C traceparent), so
 * propagation and the receipts' trace metadata never depend on whether anything is exported.
 */
export interface HopSpan {
  /** This hop's context: the trace it belongs to and its own span id (the next hop's parent). */
  readonly context: TraceContext;
  /** Adds attributes (numbers, strings, booleans) to the exported span. */
  set(attributes: Attributes): void;
  /** Ends the span, as an error when `error` is given; later calls do nothing. */
  end(options?: { error?: string; attributes?: Attributes; endTimeMs?: number }): void;
}

export type HopKind = 'server' | 'client' | 'internal' | 'consumer' | 'producer';
const KINDS: Record<HopKind, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
  consumer: SpanKind.CONSUMER,
  producer: SpanKind.PRODUCER,
};

// One tracer per scope, as OpenTelemetry advises: `trace.getTracer` makes a new proxy tracer per call.
// Kept per provider: a proxy tracer finds a provider registered later, but one that replaces it
// (`trace.disable()`, then another) only through a new tracer.
const tracers = new Map<string, { provider: TracerProvider; tracer: Tracer }>();
const tracerOf = (name: string): Tracer => {
  const provider = trace.getTracerProvider();
  const known = tracers.get(name);
  if (known?.provider === provider) return known.tracer;
  const tracer = provider.getTracer(name);
  tracers.set(name, { provider, tracer });
  return tracer;
};

/**
 * The API's own no-op provider: what the global provider delegates to until an SDK registers one (a
 * fresh proxy has no delegate, so it hands out that same instance).
 */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();
const NOOP_HOP = { set: () => {}, end: () => {} };

/** Whether any SDK is registered to record spans (checked per hop: one may register at any time). */
function tracingRecorded(): boolean {
  const provider = trace.getTracerProvider();
  return (provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider) !== NOOP_PROVIDER;
}

/** Starts a hop as a child of `parent` (a remote context from a traceparent), or a new trace without one. */
export function startHop(o: {
  /** The instrumentation scope: the service (`hexedge-gateway`, `hexedge-edge-node`, …). */
  tracer: string;
  name: string;
  parent?: TraceContext | undefined;
  kind?: HopKind;
  attributes?: Attributes;
  startTimeMs?: number;
}): HopSpan {
  // Nothing records (the default): the hop needs only its context to pass on, not the API's no-op span,
  // its parent context and attribute objects (a few µs a request on the gateway's hot path).
  if (!tracingRecorded())
    return { context: o.parent ? childTraceContext(o.parent) : newTraceContext(), ...NOOP_HOP };
  const parentContext = o.parent
    ? trace.setSpanContext(ROOT_CONTEXT, {
        traceId: o.parent.traceId,
        spanId: o.parent.spanId,
        traceFlags: o.parent.flags,
        isRemote: true,
      })
    : ROOT_CONTEXT;
  const span: Span = tracerOf(o.tracer).startSpan(
    o.name,
    {
      kind: KINDS[o.kind ?? 'internal'],
      ...(o.attributes ? { attributes: o.attributes } : {}),
      ...(o.startTimeMs !== undefined ? { startTime: o.startTimeMs } : {}),
    },
    parentContext,
  );
  const sc = span.spanContext();
  // A recording span (an SDK is registered) names itself; the no-op API's span only echoes its
  // parent's ids, so the hop then takes a span id of its own.
  const context: TraceContext =
    span.isRecording() && trace.isSpanContextValid(sc)
      ? { traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags }
      : o.parent
        ? childTraceContext(o.parent)
        : newTraceContext();
  let ended = false;
  return {
    context,
    set: (attributes) => void span.setAttributes(attributes),
    end(options = {}) {
      if (ended) return;
      ended = true;
      if (options.attributes) span.setAttributes(options.attributes);
      if (options.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: options.error });
      span.end(options.endTimeMs);
    },
  };
}
