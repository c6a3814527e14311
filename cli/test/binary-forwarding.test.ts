import { buildComfortIndexModel, comfortIndexManifest, nodeConfigSchema } from '@hexedge/edge-node';
import { buildEdgeNode, writeModel } from '@hexedge/edge-node/node';
import { gatewayConfigSchema } from '@hexedge/gateway';
import { buildGateway } from '@hexedge/gateway/node';
import { verifyReceipt, type InferResponse } from '@hexedge/protocol';
import { waitUntil } from '@hexedge/test-kit';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeInit } from '../src/commands/node-init.ts';

/**
 * Inside the fabric tensors travel as the OIP binary tensor extension, both ways: the gateway
 * (`hexedge gateway`'s builder) forwards a request's tensors to a real edge node (`hexedge node run`'s
 * builder) as raw bytes after a JSON header that holds no data, and asks for binary outputs, which the
 * node sends and the gateway decodes, checks against the receipt and answers as OIP JSON. What went over
 * the wire is read from undici's diagnostics channels (the gateway's node client is an undici Pool).
 */
const ADMIN_KEY = 'binary-forwarding-admin-key-0123';
const HERE = { lat: 52.37, lng: 4.9 };
const READINGS = [29.5, 55.25, 900.125];
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-binary-forwarding-'));
const stopping = new AbortController();
let gatewayUrl: string;

interface Wire {
  path: string;
  requestHeaders: string[];
  body: Buffer[];
  responseHeaders: string[];
  answer: Buffer[];
}
const wires = new Map<object, Wire>();
const onCreate = ({ request }: { request: { path: string; headers: unknown } }) => {
  if (!request.path.startsWith('/v2/models/')) return;
  const headers = Array.isArray(request.headers)
    ? (request.headers as unknown[]).map(String)
    : String(request.headers).split('\r\n');
  wires.set(request, {
    path: request.path,
    requestHeaders: headers.map((h) => h.toLowerCase()),
    body: [],
    responseHeaders: [],
    answer: [],
  });
};
const onChunkSent = ({ request, chunk }: { request: object; chunk: Uint8Array | string }) =>
  wires.get(request)?.body.push(Buffer.from(chunk as Uint8Array));
const onHeaders = ({ request, response }: { request: object; response: { headers: Buffer[] } }) =>
  wires
    .get(request)
    ?.responseHeaders.push(...response.headers.map((h) => h.toString('latin1').toLowerCase()));
const onChunkReceived = ({ request, chunk }: { request: object; chunk: Buffer }) =>
  wires.get(request)?.answer.push(Buffer.from(chunk));

beforeAll(async () => {
  diagnostics.subscribe('undici:request:create', onCreate as never);
  diagnostics.subscribe('undici:request:bodyChunkSent', onChunkSent as never);
  diagnostics.subscribe('undici:request:headers', onHeaders as never);
  diagnostics.subscribe('undici:request:bodyChunkReceived', onChunkReceived as never);
  const modelsDir = path.join(dir, 'models');
  const bytes = buildComfortIndexModel();
  await writeModel({ dir: modelsDir, manifest: await comfortIndexManifest(bytes), bytes });
  const gateway = await buildGateway(
    gatewayConfigSchema.parse({
      port: 0,
      dataDir: path.join(dir, 'gateway'),
      modelsDir,
      heartbeatIntervalMs: 1_000,
      allowPrivateNodeAddresses: true,
      assumeLocationsVerified: true,
    }),
    { adminKey: ADMIN_KEY },
    { signal: stopping.signal },
  );
  gatewayUrl = gateway.url;
  const dataDir = path.join(dir, 'node');
  await nodeInit({ dataDir, ...HERE, gatewayUrl });
  // A node from before forward MACs (it takes signatures only), so the gateway signs, in batches; the
  // MAC path to nodes that take them is forward-mac.security.test.ts's.
  await buildEdgeNode(
    nodeConfigSchema.parse({ location: HERE, gatewayUrl, host: '127.0.0.1', port: 0, modelsDir }),
    { dataDir, signal: stopping.signal, forwardMacs: false },
  );
  await waitUntil('the node serves comfort-index through the gateway', async () => {
    const res = await fetch(
      `${gatewayUrl}/v1/nodes/nearest?lat=${HERE.lat}&lng=${HERE.lng}&model=comfort-index`,
      { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
    );
    const { nodes } = (await res.json()) as { nodes: { models: { ready: boolean }[] }[] };
    return nodes.some((n) => n.models.some((m) => m.ready));
  });
}, 60_000);

afterAll(async () => {
  stopping.abort();
  diagnostics.unsubscribe('undici:request:create', onCreate as never);
  diagnostics.unsubscribe('undici:request:bodyChunkSent', onChunkSent as never);
  diagnostics.unsubscribe('undici:request:headers', onHeaders as never);
  diagnostics.unsubscribe('undici:request:bodyChunkReceived', onChunkReceived as never);
  await new Promise((r) => setTimeout(r, 200));
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway → edge node', () => {
  it('forwards tensors and reads outputs as the binary tensor extension, no float in JSON', async () => {
    const res = await fetch(`${gatewayUrl}/v1/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'comfort-index',
        location: HERE,
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: READINGS }],
      }),
    });
    const answer = (await res.json()) as InferResponse;
    expect(res.status).toBe(200);
    expect(await verifyReceipt(answer.receipt)).toMatchObject({ ok: true });
    const probabilities = answer.outputs![0]!.data as number[];
    expect(probabilities).toHaveLength(3);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);

    const wire = [...wires.values()].find((w) => w.path === '/v2/models/comfort-index/versions/1/infer')!;
    expect(wire).toBeDefined();
    const header = (name: string, lines: string[]) => {
      const at = lines.findIndex((l, i) => l === name && i % 2 === 0);
      return at >= 0
        ? lines[at + 1]
        : lines
            .find((l) => l.startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim();
    };
    expect(header('content-type', wire.requestHeaders)).toBe('application/octet-stream');
    const sent = Buffer.concat(wire.body);
    const headerLength = Number(header('inference-header-content-length', wire.requestHeaders));
    const head = JSON.parse(sent.subarray(0, headerLength).toString('utf8')) as {
      inputs: { data?: unknown; parameters: { binary_data_size: number } }[];
      parameters: Record<string, unknown>;
    };
    expect(head.inputs[0]).not.toHaveProperty('data');
    expect(head.inputs[0]!.parameters.binary_data_size).toBe(12);
    expect(head.parameters.binary_data_output).toBe(true);
    const raw = sent.subarray(headerLength);
    expect(
      Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length))),
    ).toEqual(READINGS);

    // The node answered binary too: the outputs' bytes follow a JSON header without data.
    const answerHeaderLength = Number(header('inference-header-content-length', wire.responseHeaders));
    expect(answerHeaderLength).toBeGreaterThan(0);
    const got = Buffer.concat(wire.answer);
    const answerHead = JSON.parse(got.subarray(0, answerHeaderLength).toString('utf8')) as {
      outputs: { data?: unknown }[];
    };
    expect(answerHead.outputs[0]).not.toHaveProperty('data');
    const out = got.subarray(answerHeaderLength);
    expect(
      Array.from(new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.length))),
    ).toEqual(probabilities);
  });

  it('signs concurrent forwards in batches (one root signature, a proof each) that the node accepts', async () => {
    const before = new Set(wires.keys());
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        fetch(`${gatewayUrl}/v1/infer`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'comfort-index',
            location: HERE,
            inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [20 + i, 50, 800] }],
          }),
        }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(12).fill(200));
    const sent = [...wires.entries()].filter(([k]) => !before.has(k)).map(([, w]) => w);
    expect(sent).toHaveLength(12);
    const header = (w: Wire, name: string) => {
      const at = w.requestHeaders.findIndex((l, i) => l === name && i % 2 === 0);
      return at >= 0 ? w.requestHeaders[at + 1] : undefined;
    };
    // The node never said it takes forward MACs: the gateway's default, a signature, every time.
    expect(sent.filter((w) => header(w, 'x-hexedge-forward-mac') !== undefined)).toEqual([]);
    const proved = sent.filter((w) => header(w, 'x-hexedge-forward-proof') !== undefined);
    expect(proved.length).toBeGreaterThan(1);
    // A batch shares one signature.
    expect(new Set(proved.map((w) => header(w, 'x-hexedge-forward-signature'))).size).toBeLessThan(
      proved.length,
    );
  });

  it('refuses an FP32 value beyond FP32 range before any node is asked, naming it', async () => {
    const before = wires.size;
    const res = await fetch(`${gatewayUrl}/v1/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'comfort-index',
        location: HERE,
        inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [1, 2, 1e39] }],
      }),
    });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(400);
    expect(body.error.code).toBe('INVALID_TENSOR');
    expect(body.error.message).toMatch(/'readings': element 2 is 1e\+39, outside FP32's range/);
    expect(wires.size).toBe(before);
  });
});
