import { nodeConfigSchema } from '@hexedge/edge-node';
import { buildEdgeNode, type RunningNode } from '@hexedge/edge-node/node';
import type { RunningGateway } from '@hexedge/gateway/node';
import {
  checkTensor,
  generateNodeKeyPair,
  signedReceiptSchema,
  tensorsDigest,
  verifyReceipt,
  type InferResponse,
} from '@hexedge/protocol';
import { requirePart } from '@hexedge/test-kit';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildComfortGateway, waitForHealthyNode } from './comfort-fabric.ts';

/**
 * The verifiable response cache on the real path: the gateway's builder with `cache.enabled` (as
 * `hexedge gateway` reads it from its config) in front of a real edge node (comfort-index on
 * onnxruntime), on real sockets. A repeat is answered from the cache with the node's original signed
 * receipt, which a client verifies offline with protocol alone; the lookups and evictions are in the
 * gateway's Prometheus metrics, which promtool still passes.
 */
const promtool = requirePart('promtool', import.meta.filename);
const ADMIN_KEY = 'cache-e2e-admin-key-0123456789';
const HERE = { lat: 52.37, lng: 4.9 };
const READINGS = [{ name: 'readings', datatype: 'FP32' as const, shape: [1, 3], data: [29, 55, 900] }];
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-cache-'));
const stopping = new AbortController();
let gateway: RunningGateway;
let node: RunningNode;

beforeAll(async () => {
  const built = await buildComfortGateway({
    dir,
    adminKey: ADMIN_KEY,
    signal: stopping.signal,
    config: { cache: { enabled: true, ttlMs: 60_000, maxEntries: 2 } },
  });
  gateway = built.gateway;
  const { modelsDir } = built;
  node = await buildEdgeNode(
    nodeConfigSchema.parse({ location: HERE, gatewayUrl: gateway.url, port: 0, modelsDir }),
    {
      dataDir: path.join(dir, 'node'),
      signal: stopping.signal,
      keys: await generateNodeKeyPair(),
    },
  );
  await waitForHealthyNode({ gatewayUrl: gateway.url, nodeId: node.nodeId });
}, 60_000);

afterAll(async () => {
  stopping.abort();
  await Promise.allSettled([gateway?.closed, node?.closed]);
  rmSync(dir, { recursive: true, force: true });
});

const infer = async (data: number[], headers: Record<string, string> = {}) => {
  const res = await fetch(`${gateway.url}/v1/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'comfort-index', location: HERE, inputs: [{ ...READINGS[0], data }] }),
  });
  expect(res.status).toBe(200);
  return { status: res.headers.get('x-hexedge-cache'), body: (await res.json()) as InferResponse };
};

function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(promtool.path!, ['check', 'metrics'], (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
    child.stdin!.end(text);
  });
}

describe('verifiable response cache, real node', () => {
  it('answers a repeat with the original receipt, which verifies offline against the request', async () => {
    const fresh = await infer([29, 55, 900]);
    const cached = await infer([29, 55, 900]);
    expect([fresh.status, cached.status]).toEqual(['miss', 'hit']);
    expect(cached.body.cached?.requestId).toBe(fresh.body.id);
    expect(cached.body.outputs).toEqual(fresh.body.outputs);
    // What a client holds: the answer and the receipt, checked with protocol only (no gateway, no node).
    const receipt = signedReceiptSchema.parse(cached.body.receipt);
    expect(receipt.body.nodeId).toBe(node.nodeId);
    expect(await verifyReceipt(receipt)).toMatchObject({ ok: true });
    expect(receipt.body.inputDigest).toBe(await tensorsDigest(READINGS.map((t) => checkTensor(t))));
    expect(receipt.body.outputDigest).toBe(
      await tensorsDigest(cached.body.outputs!.map((t) => checkTensor(t))),
    );
    // A forged answer under the same receipt does not verify: another output digests differently.
    const forged = cached.body.outputs!.map((t) =>
      checkTensor({ ...t, data: (t.data as number[]).map((v) => v + 0.5) }),
    );
    expect(await tensorsDigest(forged)).not.toBe(receipt.body.outputDigest);
  });

  it('counts hits, misses, bypasses and evictions in /metrics, and promtool passes', async () => {
    await infer([20, 40, 500]);
    await infer([21, 40, 500]); // maxEntries 2: the oldest is evicted
    await infer([21, 40, 500], { 'cache-control': 'no-cache' });
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(text).toMatch(/hexedge_gateway_cache_lookups_total\{result="hit"\} 1\b/);
    expect(text).toMatch(/hexedge_gateway_cache_lookups_total\{result="miss"\} 3\b/);
    expect(text).toMatch(/hexedge_gateway_cache_lookups_total\{result="bypass"\} 1\b/);
    expect(text).toMatch(/hexedge_gateway_cache_evictions_total\{reason="lru"\} 1\b/);
    expect(text).toMatch(/hexedge_gateway_cache_entries 2\b/);
    if (!promtool.skip) expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
  });
});
