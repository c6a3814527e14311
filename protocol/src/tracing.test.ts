import { trace, type Span, type SpanContext, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { newTraceContext } from './trace-context.ts';
import { startHop } from './tracing.ts';

/** A tracer provider that records span names and gives each span ids of its own, as an SDK's does. */
function recordingProvider(): { provider: TracerProvider; started: string[] } {
  const started: string[] = [];
  let n = 0;
  const tracer = {
    startSpan(name: string) {
      started.push(name);
      const ctx: SpanContext = {
        traceId: 'a'.repeat(32),
        spanId: (++n).toString(16).padStart(16, '0'),
        traceFlags: 1,
      };
      return {
        spanContext: () => ctx,
        isRecording: () => true,
        setAttributes() {
          return this;
        },
        setStatus() {
          return this;
        },
        end: () => {},
      } as unknown as Span;
    },
  } as unknown as Tracer;
  return { provider: { getTracer: () => tracer }, started };
}

afterEach(() => trace.disable());

describe('startHop', () => {
  it('with no SDK registered, gives a child context of the parent (same trace, a new span id) and ends quietly', () => {
    const parent = newTraceContext();
    const hop = startHop({ tracer: 't', name: 'x', parent, attributes: { a: 1 } });
    expect(hop.context.traceId).toBe(parent.traceId);
    expect(hop.context.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(hop.context.spanId).not.toBe(parent.spanId);
    hop.set({ b: 2 });
    hop.end({ error: 'e' });
    const root = startHop({ tracer: 't', name: 'y' });
    expect(root.context.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.context.traceId).not.toBe(parent.traceId);
  });

  it('records through an SDK registered later, and stops when it is taken away', () => {
    startHop({ tracer: 't', name: 'before' });
    const { provider, started } = recordingProvider();
    trace.setGlobalTracerProvider(provider);
    const hop = startHop({ tracer: 't', name: 'during', parent: newTraceContext() });
    expect(started).toEqual(['during']);
    // The SDK's span names the hop: its ids, not ones made up beside it.
    expect(hop.context).toEqual({ traceId: 'a'.repeat(32), spanId: '0000000000000001', flags: 1 });
    trace.disable();
    startHop({ tracer: 't', name: 'after' });
    expect(started).toEqual(['during']);
  });
});
