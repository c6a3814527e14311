import { buildComfortIndexModel, comfortIndexManifest, nodeConfigSchema } from '@hexedge/edge-node';
import { buildEdgeNode, OrtNodeBackend, type RunningNode } from '@hexedge/edge-node/node';
import { tensorsDigest, verifyReceipt, type InferResponse, type Tensor } from '@hexedge/protocol';
import { waitUntil } from '@hexedge/test-kit';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeInit } from '../src/commands/node-init.ts';
import { buildComfortGateway } from './comfort-fabric.ts';

/**
 * Coalescing between a real gateway (`hexedge gateway`'s builder, whose node client is the coalescing
 * one) and a real edge node (`hexedge node run`'s builder, onnxruntime) over real sockets: under
 * concurrency the gateway sends the forwards that queue up as exchanges (`POST /v2/exchange`, counted
 * by the node), every caller still gets its own answer with its own verified receipt, and a caller
 * at concurrency 1 never waits for one.
 */
const ADMIN_KEY = 'coalescing-admin-key-0123456789ab';
const HERE = { lat: 52.37, lng: 4.9 };
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-coalesce-'));
const stopping = new AbortController();
let gatewayUrl: string;
let node: RunningNode;
let run: (data: number[]) => Promise<number[]>;

const readingOf = (data: number[]): Tensor => ({ name: 'readings', datatype: 'FP32', shape: [1, 3], data });

const infer = async (id: string, data: number[]) => {
  const res = await fetch(`${gatewayUrl}/v1/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, model: 'comfort-index', location: HERE, inputs: [readingOf(data)] }),
  });
  return { status: res.status, body: (await res.json()) as InferResponse };
};

const exchangesAtNode = async () => {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const count = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return {
    exchanges: count(/^hexedge_node_exchanges_total\{outcome="ok"\} (\d+)$/m),
    parts: count(/^hexedge_node_exchange_parts_sum (\d+)$/m),
  };
};

beforeAll(async () => {
  const { gateway, modelsDir } = await buildComfortGateway({
    dir,
    adminKey: ADMIN_KEY,
    signal: stopping.signal,
  });
  gatewayUrl = gateway.url;
  const dataDir = path.join(dir, 'node');
  await nodeInit({ dataDir, ...HERE, gatewayUrl });
  node = await buildEdgeNode(
    nodeConfigSchema.parse({ location: HERE, gatewayUrl, host: '127.0.0.1', port: 0, modelsDir }),
    { dataDir, signal: stopping.signal },
  );
  await waitUntil(
    'the node serves comfort-index through the gateway',
    async () => (await infer('warm-0', [20, 40, 500])).status === 200,
  );
  // The model itself, in this process, for what each caller's answer must be.
  const bytes = buildComfortIndexModel();
  const model = await (
    await OrtNodeBackend.create()
  ).load({ manifest: await comfortIndexManifest(bytes), bytes });
  run = async (data) => Array.from((await model.run([readingOf(data)]))[0]!.data as ArrayLike<number>);
}, 60_000);

afterAll(async () => {
  stopping.abort();
  await node?.closed;
  rmSync(dir, { recursive: true, force: true });
});

describe('coalescing forwards into exchanges, gateway → edge node', () => {
  it('sends what queues under concurrency as exchanges; every caller gets its own answer and receipt', async () => {
    const before = await exchangesAtNode();
    const callers = Array.from({ length: 64 }, (_, i) => ({
      id: `burst-${i}`,
      data: [15 + (i % 20), 30 + i, 400 + 17 * i],
    }));
    const answers = await Promise.all(callers.map((c) => infer(c.id, c.data)));
    const after = await exchangesAtNode();
    expect(after.exchanges).toBeGreaterThan(before.exchanges);
    expect(after.parts - before.parts).toBeGreaterThanOrEqual(2 * (after.exchanges - before.exchanges));
    for (const [i, { status, body }] of answers.entries()) {
      const c = callers[i]!;
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.id).toBe(c.id);
      expect(body.node.id).toBe(node.nodeId);
      expect(body.receipt.body.requestId).toBe(c.id);
      expect(body.receipt.body.inputDigest).toBe(await tensorsDigest([readingOf(c.data)]));
      expect(await verifyReceipt(body.receipt)).toMatchObject({ ok: true });
      const expected = await run(c.data);
      const got = body.outputs![0]!.data as number[];
      got.forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 5));
    }
  });

  it('sends a caller at concurrency 1 alone, never in an exchange', async () => {
    const before = await exchangesAtNode();
    for (let i = 0; i < 8; i++) expect((await infer(`alone-${i}`, [22, 45, 600 + i])).status).toBe(200);
    expect((await exchangesAtNode()).exchanges).toBe(before.exchanges);
  });
});
