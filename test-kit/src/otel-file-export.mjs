// What a deployment's OpenTelemetry set-up file does, with a file exporter for tests: loaded before a
// HexEdge process starts (`NODE_OPTIONS=--import <this file>`), it registers an SDK tracer provider
// whose exporter appends each finished span as a JSON line to
// `$HEXEDGE_OTEL_DIR/<pid>.jsonl`. Production would put an OTLP exporter here instead.
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { appendFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env.HEXEDGE_OTEL_DIR;
if (dir) {
  const file = path.join(dir, `${process.pid}.jsonl`);
  const exporter = {
    export(spans, done) {
      const lines = spans.map((s) =>
        JSON.stringify({
          name: s.name,
          scope: s.instrumentationScope?.name,
          traceId: s.spanContext().traceId,
          spanId: s.spanContext().spanId,
          parentSpanId: s.parentSpanContext?.spanId,
          kind: s.kind,
          attributes: s.attributes,
          status: s.status,
        }),
      );
      appendFileSync(file, `${lines.join('\n')}\n`);
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
}
