import { buildComfortIndexModel, comfortIndexManifest, nodeConfigSchema } from '@hexedge/edge-node';
import { buildEdgeNode, writeModel, type RunningNode } from '@hexedge/edge-node/node';
import {
  exportKeyPair,
  generateNodeKeyPair,
  signRerun,
  verifyReceipt,
  type InferResponse,
  type StoredKeyPair,
} from '@hexedge/protocol';
import { readKeyFile } from '@hexedge/protocol/node';
import { waitUntil } from '@hexedge/test-kit';
import type { Miniflare } from 'miniflare';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oracleServiceConfigSchema } from '@hexedge/coverage-oracle';
import type { RunningOracle } from '@hexedge/coverage-oracle/node';
import { bundleWorker, startWorker } from '../../gateway/test/worker-harness.ts';
import { nodeInit } from '../src/commands/node-init.ts';
import { buildOracleDeployable } from '../src/oracle-deployable.ts';
import { storedReceiptRequestIds } from './shutdown-helpers.ts';

/**
 * The Worker build of the gateway (the real entry, bundled by wrangler, run by workerd through
 * Miniflare) in front of real edge nodes (`hexedge node run`'s builder, onnxruntime) over real
 * sockets. Edge nodes serve only gateways whose keys they read at GET /v1/gateway/identity: with its
 * HEXEDGE_GATEWAY_KEY secret the Worker publishes its key and signs its forwards, and a node serves
 * inference through it with verified receipts, which the Worker reports to the coverage oracle
 * (`hexedge oracle`'s builder, in this process); without it, a node refuses the Worker's forwards.
 */
const ADMIN_KEY = 'worker-e2e-admin-key-0123456789abcdef';
const HERE = { lat: 52.37, lng: 4.9 };
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-worker-e2e-'));
const stopping = new AbortController();
const modelsDir = path.join(dir, 'models');
let bundle: ReturnType<typeof bundleWorker> | undefined;
const workers: Miniflare[] = [];
const nodes: RunningNode[] = [];

const bindings = (extra: Record<string, string>) => ({
  HEXEDGE_API_KEY: ADMIN_KEY,
  ALLOW_PRIVATE_NODE_ADDRESSES: 'true',
  HEARTBEAT_INTERVAL_MS: '1000',
  ...extra,
});

async function worker(name: string, extra: Record<string, string>): Promise<string> {
  const mf = startWorker({
    scriptPath: bundle!.scriptPath,
    persistDir: path.join(dir, `${name}-state`),
    bindings: bindings(extra),
    listen: true,
  });
  workers.push(mf);
  return (await mf.ready).origin;
}

async function nodeAt(gatewayUrl: string, name: string): Promise<RunningNode> {
  const dataDir = path.join(dir, name);
  await nodeInit({ dataDir, ...HERE, gatewayUrl });
  const node = await buildEdgeNode(
    nodeConfigSchema.parse({ location: HERE, gatewayUrl, host: '127.0.0.1', port: 0, modelsDir }),
    { dataDir, signal: stopping.signal },
  );
  nodes.push(node);
  return node;
}

const infer = async (gatewayUrl: string, id: string) => {
  const res = await fetch(`${gatewayUrl}/v1/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      id,
      model: 'comfort-index',
      location: HERE,
      inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [21, 40, 550] }],
    }),
  });
  return {
    status: res.status,
    body: (await res.json()) as InferResponse & { error?: { code: string; message: string } },
  };
};

let oracle: RunningOracle;
let gatewayKey: StoredKeyPair;
let signedUrl: string;
let signedNode: RunningNode;

beforeAll(async () => {
  bundle = bundleWorker(path.resolve(import.meta.dirname, '../../gateway/src/adapters/worker.ts'));
  const bytes = buildComfortIndexModel();
  await writeModel({ dir: modelsDir, manifest: await comfortIndexManifest(bytes), bytes });
  // The oracle first (the Worker needs its URL); it learns the Worker's key from its identity.
  oracle = await buildOracleDeployable(
    oracleServiceConfigSchema.parse({
      port: 0,
      dataDir: path.join(dir, 'oracle'),
      gatewayUrls: [],
      location: HERE,
      challengeIntervalMs: 0,
      exportIntervalMs: 0,
      directoryRefreshMs: 300,
    }),
    { signal: stopping.signal, log: () => {} },
  );
  gatewayKey = await exportKeyPair(await generateNodeKeyPair());
  signedUrl = await worker('signed', {
    HEXEDGE_GATEWAY_KEY: JSON.stringify(gatewayKey),
    ORACLE_URL: oracle.url,
    // The oracle's trust pushes are applied too (gateway/test/worker-trust.test.ts checks them).
    ORACLE_IDS: oracle.oracleId,
  });
  await oracle.addGatewayUrl(signedUrl);
  signedNode = await nodeAt(signedUrl, 'node-signed');
}, 90_000);

afterAll(async () => {
  stopping.abort();
  await Promise.all(nodes.map((n) => n.closed));
  await oracle?.closed;
  await Promise.all(workers.map((mf) => mf.dispose()));
  bundle?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('the Worker gateway in front of real edge nodes', () => {
  it('publishes the key of its HEXEDGE_GATEWAY_KEY secret at GET /v1/gateway/identity', async () => {
    const identity = (await (await fetch(`${signedUrl}/v1/gateway/identity`)).json()) as {
      reporterId: string;
      reporterIds: string[];
    };
    expect(identity.reporterId).toBe(gatewayKey.nodeId);
    expect(identity.reporterIds).toEqual([gatewayKey.nodeId]);
  });

  it('signs its forwards: a node that checks its callers serves inference through it, with a verified receipt', async () => {
    let answer: Awaited<ReturnType<typeof infer>> | undefined;
    await waitUntil(
      'the node serves comfort-index through the Worker',
      async () => (answer = await infer(signedUrl, 'through-worker')).status === 200,
      { timeoutMs: 30_000 },
    );
    const { body } = answer!;
    expect(body.node.id).toBe(signedNode.nodeId);
    expect(body.receipt.body.requestId).toBe('through-worker');
    expect(await verifyReceipt(body.receipt)).toMatchObject({ ok: true });
  }, 45_000);

  it('reports each answer it forwarded to the coverage oracle, batch-signed by its key', async () => {
    const ids = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const { status, body } = await infer(signedUrl, `reported-${i}`);
        expect(status, JSON.stringify(body)).toBe(200);
        return body.id;
      }),
    );
    const sqlite = path.join(dir, 'oracle', 'oracle.sqlite');
    await waitUntil(
      `all ${ids.length} receipts in the oracle's store`,
      () => {
        const stored = storedReceiptRequestIds(sqlite);
        return ids.every((id) => stored.has(id));
      },
      { timeoutMs: 30_000 },
    );
  }, 45_000);

  it('forwards the oracle’s spot-check re-run to the node as live traffic, and answers with the node’s answer', async () => {
    const oracleKeys = (await readKeyFile(path.join(dir, 'oracle', 'oracle-key.json')))!.keys;
    expect(oracleKeys.nodeId).toBe(oracle.oracleId);
    const readings = { name: 'readings', datatype: 'FP32' as const, shape: [1, 3], data: [21, 40, 550] };
    const signed = await signRerun({
      oracle: oracleKeys,
      targetNodeId: signedNode.nodeId,
      request: { kind: 'tensors', modelName: 'comfort-index', modelVersion: '1', inputs: [readings] },
      nowMs: Date.now(),
    });
    const post = () =>
      fetch(`${signedUrl}/v1/oracle/rerun`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(signed),
      });
    const res = await post();
    // The node's own OIP answer, as it came: its receipt in the `hexedge_receipt` parameter.
    const body = (await res.json()) as { outputs?: unknown[]; parameters?: { hexedge_receipt?: string } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.outputs).toHaveLength(1);
    const receipt = JSON.parse(body.parameters!.hexedge_receipt!) as {
      body: { nodeId: string; modelName: string };
    };
    expect(receipt.body).toMatchObject({ nodeId: signedNode.nodeId, modelName: 'comfort-index' });
    // Each re-run once.
    expect((await post()).status).toBe(409);
  });

  it('without the secret it publishes no identity, and the node it routes to refuses its forwards', async () => {
    const url = await worker('unsigned', {});
    expect((await fetch(`${url}/v1/gateway/identity`)).status).toBe(404);
    const node = await nodeAt(url, 'node-unsigned');
    // Registered and placed (the Worker tries it), but every forward is refused at the node.
    const refusedAtNode = async () => {
      const text = await (await fetch(`${node.url}/metrics`)).text();
      return /^hexedge_node_requests_total\{model="comfort-index",[^}]*outcome="FORBIDDEN"\} [1-9]/m.test(
        text,
      );
    };
    let last: Awaited<ReturnType<typeof infer>> | undefined;
    await waitUntil(
      'the node refuses a forward from the keyless Worker',
      async () => {
        last = await infer(url, 'unsigned-forward');
        return refusedAtNode();
      },
      { timeoutMs: 30_000 },
    );
    expect(last!.status).toBe(502);
    expect(last!.body.error).toMatchObject({ code: 'NODE_FAILED' });
    expect(last!.body.error!.message).toContain(`node ${node.nodeId} refused the request (HTTP 403)`);
  }, 60_000);

  it('with a malformed secret, or an oracle but no key, answers every request 500 naming the fault (never the key)', async () => {
    const stolen = await exportKeyPair(await generateNodeKeyPair());
    const url = await worker('mismatched', {
      ORACLE_URL: oracle.url,
      HEXEDGE_GATEWAY_KEY: JSON.stringify({
        nodeId: gatewayKey.nodeId,
        privateKeyPkcs8: stolen.privateKeyPkcs8,
      }),
    });
    const res = await fetch(`${url}/v1/health`);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(500);
    expect(body.error.code).toBe('INTERNAL');
    expect(body.error.message).toContain(
      `nodeId ${gatewayKey.nodeId} is not the public key of its privateKeyPkcs8`,
    );
    expect(body.error.message).not.toContain(stolen.privateKeyPkcs8);
    // Reports must be signed by the gateway key: an oracle without the key is refused the same way.
    const keyless = await worker('oracle-without-key', { ORACLE_URL: oracle.url });
    const refused = await fetch(`${keyless}/v1/health`);
    expect(refused.status).toBe(500);
    expect(((await refused.json()) as typeof body).error.message).toContain(
      'ORACLE_URL is set but HEXEDGE_GATEWAY_KEY is not',
    );
  });
});
