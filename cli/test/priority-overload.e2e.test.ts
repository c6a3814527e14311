import { buildProjectModels } from '@hexedge/edge-node/node';
import {
  initNode,
  startGatewayProcess,
  startNodeProcess,
  type GatewayProcess,
  type NodeProcess,
} from '@hexedge/test-kit';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForHealthyNode } from './comfort-fabric.ts';

/**
 * Priorities under real overload: `hexedge gateway` and one `hexedge node run` serving the project's
 * vibration-anomaly model (fp32, real onnxruntime on one worker thread, batches of one, so runs queue),
 * its queue limits small (low admitted below 2 queued, high below 64). Two tenants send at once: a
 * bulk one at low priority and an urgent one at high. The node refuses low first (503 → the gateway,
 * with no other node, answers 503 OVERLOADED and Retry-After), while every high request is served.
 */
const ADMIN_KEY = 'priority-e2e-admin-key-0123456789';
const HERE = { lat: 52.37, lng: 4.9 };
const LOW = 120;
const HIGH = 40;
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-priority-'));
let gateway: GatewayProcess;
let node: NodeProcess;

/** A 512×3 window of a healthy shaft (1× orbit), in g: the model's real input. */
function window(seed: number): number[] {
  return Array.from(
    { length: 512 * 3 },
    (_, i) => Math.sin(((Math.floor(i / 3) + seed) * 2 * Math.PI * 25) / 3200) * 0.1 * ((i % 3) + 1),
  );
}

beforeAll(async () => {
  const modelsDir = path.join(dir, 'models');
  await buildProjectModels({ outDir: modelsDir, only: ['vibration-anomaly'] });
  gateway = await startGatewayProcess({
    configFile: path.join(dir, 'gateway.yaml'),
    adminKey: ADMIN_KEY,
    config: {
      port: 0,
      dataDir: path.join(dir, 'gateway'),
      modelsDir,
      heartbeatIntervalMs: 1_000,
      assumeLocationsVerified: true,
      allowPrivateNodeAddresses: true,
      limits: { maxInFlightPerKey: 1024 },
    },
  });
  const dataDir = path.join(dir, 'node');
  await initNode({
    dataDir,
    ...HERE,
    gatewayUrl: gateway.url,
    extraYaml: ['scheduler:', '  maxBatchSize: 1', '  queueLimits: { high: 64, normal: 8, low: 2 }'],
  });
  // One worker thread, as an operator would edit the file `node init` wrote.
  const nodeYaml = path.join(dataDir, 'node.yaml');
  writeFileSync(
    nodeYaml,
    readFileSync(nodeYaml, 'utf8').replace(/^inferenceWorkers: .*$/m, 'inferenceWorkers: 1'),
  );
  node = await startNodeProcess({ dataDir, args: ['--port', '0', '--models-dir', modelsDir] });
  await waitForHealthyNode({ gatewayUrl: gateway.url, nodeId: node.nodeId });
}, 120_000);

afterAll(async () => {
  await node?.stop();
  await gateway?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('priorities under overload, real node and model', () => {
  it('refuses low priority first (503 + Retry-After) while every high-priority request is served', async () => {
    const created = await fetch(`${gateway.url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'urgent tenant', ratePerSecond: 10_000, burst: 10_000 }),
    });
    const urgentKey = ((await created.json()) as { key: string }).key;
    const send = async (priority: 'low' | 'high', i: number) => {
      const res = await fetch(`${gateway.url}/v1/infer`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${priority === 'high' ? urgentKey : ADMIN_KEY}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          model: 'vibration-anomaly',
          version: '1.0.0',
          location: HERE,
          inputs: [{ name: 'window', datatype: 'FP32', shape: [1, 512, 3], data: window(i) }],
          policy: { priority },
        }),
      });
      const json = (await res.json()) as { error?: { code: string } };
      return {
        priority,
        status: res.status,
        code: json.error?.code,
        retryAfter: res.headers.get('retry-after'),
      };
    };
    // Warm the session, then everyone at once, interleaved.
    expect((await send('high', -1)).status).toBe(200);
    const all = await Promise.all(
      Array.from({ length: LOW + HIGH }, (_, i) => (i % 4 === 3 ? send('high', i) : send('low', i))),
    );
    const high = all.filter((r) => r.priority === 'high');
    const low = all.filter((r) => r.priority === 'low');
    const refusedLow = low.filter((r) => r.status !== 200);
    console.log(
      `overload: low ${low.length - refusedLow.length}/${low.length} served, high ${high.filter((r) => r.status === 200).length}/${high.length} served`,
    );
    expect(high.map((r) => r.status)).toEqual(high.map(() => 200));
    expect(refusedLow.length).toBeGreaterThan(0);
    for (const r of refusedLow) {
      expect(r).toMatchObject({ status: 503, code: 'OVERLOADED' });
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // The node counted its refusals by code (its metrics), so they were the node's, not the gateway's.
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/outcome="OVERLOADED"/);
  }, 120_000);
});
