import { nodeConfigSchema } from '@hexedge/edge-node';
import { buildEdgeNode, type RunningNode } from '@hexedge/edge-node/node';
import type { RunningGateway } from '@hexedge/gateway/node';
import {
  generateNodeKeyPair,
  parseTraceparent,
  RERUN_PATH,
  signRerun,
  type InferResponse,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { waitUntil } from '@hexedge/test-kit';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildComfortGateway, waitForHealthyNode } from './comfort-fabric.ts';

/**
 * Spans exported through @opentelemetry/api when an exporter is configured: an SDK tracer provider
 * with the in-memory exporter is registered globally (as a deployment registers one with OTLP), and the
 * real gateway and edge node (their builders, in this process, on real sockets, comfort-index on
 * onnxruntime) export their hops into it: one trace from the caller's traceparent through the gateway
 * and its forward to the node's span, and an oracle's spot-check re-run joining that trace.
 */
const ADMIN_KEY = 'otel-test-admin-key-0123456789';
const HERE = { lat: 52.37, lng: 4.9 };
const CALLER = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
const exporter = new InMemorySpanExporter();
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-otel-'));
const stopping = new AbortController();
let gateway: RunningGateway;
let node: RunningNode;
let oracleKeys: NodeKeyPair;

beforeAll(async () => {
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  oracleKeys = await generateNodeKeyPair();
  const built = await buildComfortGateway({
    dir,
    adminKey: ADMIN_KEY,
    signal: stopping.signal,
    // An oracle that never answers: only its key matters here (its signed re-runs are accepted).
    config: { oracle: { url: 'http://127.0.0.1:9', oracleIds: [oracleKeys.nodeId], forwardReceipts: false } },
  });
  gateway = built.gateway;
  const { modelsDir } = built;
  node = await buildEdgeNode(
    nodeConfigSchema.parse({
      location: HERE,
      gatewayUrl: gateway.url,
      port: 0,
      modelsDir,
      oracleIds: [oracleKeys.nodeId],
    }),
    { dataDir: path.join(dir, 'node'), signal: stopping.signal, keys: await generateNodeKeyPair() },
  );
  await waitForHealthyNode({ gatewayUrl: gateway.url, nodeId: node.nodeId });
}, 60_000);

afterAll(async () => {
  stopping.abort();
  await Promise.allSettled([gateway?.closed, node?.closed]);
  trace.disable();
  rmSync(dir, { recursive: true, force: true });
});

const spansOf = (traceId: string) =>
  exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const READINGS = [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [29, 55, 900] }];

describe('OpenTelemetry export (in-memory exporter)', () => {
  it('exports one trace: caller → gateway server span → forward client span → node server span', async () => {
    const res = await fetch(`${gateway.url}/v1/infer`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': 'application/json',
        traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-01`,
      },
      body: JSON.stringify({ model: 'comfort-index', location: HERE, inputs: READINGS, id: 'otel-1' }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as InferResponse;
    await waitUntil('the node span to be exported', () =>
      spansOf(CALLER.traceId).some((s) => s.name.startsWith('node ')),
    );
    const spans = spansOf(CALLER.traceId);
    const gatewaySpan = spans.find((s) => s.name === 'gateway infer comfort-index')!;
    const forward = spans.find((s) => s.name === 'gateway forward to node')!;
    const nodeSpan = spans.find((s) => s.name === 'node infer comfort-index')!;
    expect(parentOf(gatewaySpan)).toBe(CALLER.spanId);
    expect(parentOf(forward)).toBe(gatewaySpan.spanContext().spanId);
    expect(parentOf(nodeSpan)).toBe(forward.spanContext().spanId);
    expect(nodeSpan.attributes['hexedge.model']).toBe('comfort-index');
    expect(typeof nodeSpan.attributes['hexedge.run_ms']).toBe('number');
    // The exported ids are the propagated ones: the answer's receipt metadata names the node's span,
    // the response header the gateway's.
    expect(parseTraceparent(answer.receipt.metadata?.traceparent)?.spanId).toBe(
      nodeSpan.spanContext().spanId,
    );
    expect(parseTraceparent(res.headers.get('traceparent'))?.spanId).toBe(gatewaySpan.spanContext().spanId);
  });

  it("joins an oracle spot-check re-run to the checked answer's trace", async () => {
    const spotCheck = { traceId: CALLER.traceId, spanId: 'aaaaaaaaaaaaaaaa' };
    const signed = await signRerun({
      oracle: oracleKeys,
      targetNodeId: node.nodeId,
      request: { kind: 'tensors', modelName: 'comfort-index', modelVersion: '1', inputs: READINGS as never },
      nowMs: Date.now(),
    });
    const res = await fetch(`${gateway.url}${RERUN_PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${spotCheck.traceId}-${spotCheck.spanId}-01`,
      },
      body: JSON.stringify(signed),
    });
    expect(res.status).toBe(200);
    await waitUntil(
      'the re-run spans to be exported',
      () => spansOf(CALLER.traceId).filter((s) => s.name.startsWith('node ')).length >= 2,
    );
    const rerun = spansOf(CALLER.traceId).find((s) => s.name === 'gateway spot-check re-run')!;
    expect(parentOf(rerun)).toBe(spotCheck.spanId);
    const checkerSpan = spansOf(CALLER.traceId).find(
      (s) => s.name.startsWith('node ') && parentOf(s) === rerun.spanContext().spanId,
    );
    expect(checkerSpan).toBeDefined();
    // The gateway's trace book added the re-run to the request it checks (the developer dashboard's hop).
    const traces = (await (
      await fetch(`${gateway.url}/v1/traces/otel-1`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).json()) as {
      traces: { hops: { hop: string; nodeId?: string }[] }[];
    };
    expect(traces.traces[0]!.hops.map((h) => h.hop)).toEqual(
      expect.arrayContaining([
        'gateway',
        'placement',
        'node',
        'node-queue',
        'node-run',
        'receipt-check',
        'spot-check',
      ]),
    );
  });
});
