import {
  generateNodeKeyPair,
  RECEIPT_PARAMETER,
  tensorsDigest,
  VerifiedRoots,
  verifyReceiptJson,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchReceiptSigner,
  buildComfortIndexModel,
  comfortIndexManifest,
  createOipApp,
  ModelSet,
  singleReceiptSigner,
} from '../src/index.ts';
import { nodeReceiptCrypto, OrtNodeBackend, readModelDir, writeModel } from '../src/node/index.ts';

/**
 * Batch-signed receipts through the real OIP app on onnxruntime-node: concurrent answers share roots,
 * each receipt still verifies alone from its own JSON, and `single` keeps v1 receipts.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-batch-receipts-'));
let keys: NodeKeyPair;
let models: ModelSet;

beforeAll(async () => {
  const bytes = buildComfortIndexModel();
  await writeModel({ dir, manifest: await comfortIndexManifest(bytes), bytes });
  const backend = await OrtNodeBackend.create();
  models = new ModelSet({ scheduler: { maxQueueDelayUs: 2_000 } });
  for (const a of (await readModelDir(dir)).artifacts) models.add(await backend.load(a));
  keys = await generateNodeKeyPair();
});
afterAll(async () => {
  await models.releaseAll();
  rmSync(dir, { recursive: true, force: true });
});

const readings = (i: number) => ({
  id: `r${i}`,
  inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [20 + i, 50, 600] }],
});
async function answers(app: ReturnType<typeof createOipApp>, n: number) {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await app.request('/v2/models/comfort-index/infer', {
        method: 'POST',
        body: JSON.stringify(readings(i)),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { parameters: Record<string, string> }).parameters[RECEIPT_PARAMETER]!;
    }),
  );
}

describe('batch-signed receipts at the node', () => {
  it('signs concurrent answers with few roots, each receipt verifiable alone and bound to its own input', async () => {
    const signer = new BatchReceiptSigner({ crypto: nodeReceiptCrypto, keys });
    const app = createOipApp({
      models,
      keys,
      isReady: () => true,
      crypto: nodeReceiptCrypto,
      receipts: signer,
    });
    const texts = await answers(app, 48);
    expect(signer.stats.receipts).toBe(48);
    expect(signer.stats.roots).toBeLessThan(48);
    const roots = new VerifiedRoots();
    for (const [i, text] of texts.entries()) {
      const verdict = await verifyReceiptJson(text, { roots });
      expect(verdict).toMatchObject({ ok: true, version: 2 });
      expect(verdict.receipt!.body.requestId).toBe(`r${i}`);
      const input = readings(i).inputs.map((t) => ({ ...t, datatype: 'FP32' as const }));
      expect(verdict.receipt!.body.inputDigest).toBe(await tensorsDigest(input));
    }
    // One signature check per root, however many answers it covers.
    expect(roots.stats.misses).toBe(signer.stats.roots);
  });

  it('closes a batch at maxBatchLeaves', async () => {
    const signer = new BatchReceiptSigner({
      crypto: nodeReceiptCrypto,
      keys,
      maxBatchLeaves: 4,
      maxBatchDelayMs: 5,
    });
    const app = createOipApp({
      models,
      keys,
      isReady: () => true,
      crypto: nodeReceiptCrypto,
      receipts: signer,
    });
    const texts = await answers(app, 16);
    const counts = texts.map(
      (t) =>
        (JSON.parse(t) as { batch: { root: { body: { leafCount: number } } } }).batch.root.body.leafCount,
    );
    expect(Math.max(...counts)).toBeLessThanOrEqual(4);
    expect(signer.stats.roots).toBeGreaterThanOrEqual(4);
  });

  it('signs each answer alone in single mode (v1 receipts)', async () => {
    const app = createOipApp({
      models,
      keys,
      isReady: () => true,
      crypto: nodeReceiptCrypto,
      receipts: singleReceiptSigner({ crypto: nodeReceiptCrypto, keys }),
    });
    const [text] = await answers(app, 1);
    expect(JSON.parse(text!)).not.toHaveProperty('batch');
    expect(await verifyReceiptJson(text!)).toMatchObject({ ok: true, version: 1 });
  });
});
