import { nodeConfigSchema } from '@hexedge/edge-node';
import { buildEdgeNode } from '@hexedge/edge-node/node';
import { verifyReceipt, type InferResponse } from '@hexedge/protocol';
import { waitUntil } from '@hexedge/test-kit';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeInit } from '../src/commands/node-init.ts';
import { headerOf, tapNodeWires, type NodeWire } from './node-wire-tap.ts';
import { buildComfortGateway } from './comfort-fabric.ts';

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

let tap: ReturnType<typeof tapNodeWires>;

beforeAll(async () => {
  tap = tapNodeWires();
  const { gateway, modelsDir } = await buildComfortGateway({
    dir,
    adminKey: ADMIN_KEY,
    signal: stopping.signal,
  });
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
  tap?.stop();
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

    const wire = tap.wires.find((w) => w.path === '/v2/models/comfort-index/versions/1/infer')!;
    expect(wire).toBeDefined();
    expect(headerOf(wire.requestHeaders, 'content-type')).toBe('application/octet-stream');
    const sent = Buffer.concat(wire.body);
    const headerLength = Number(headerOf(wire.requestHeaders, 'inference-header-content-length'));
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
    const answerHeaderLength = Number(headerOf(wire.responseHeaders, 'inference-header-content-length'));
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
    const before = tap.wires.length;
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
    const sent = tap.wires.slice(before);
    expect(sent).toHaveLength(12);
    const header = (w: NodeWire, name: string) => headerOf(w.requestHeaders, name);
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
    const before = tap.wires.length;
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
    expect(tap.wires.length).toBe(before);
  });
});
