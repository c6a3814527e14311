import {
  signBatch,
  signBody,
  tensorsDigest,
  useEd25519Engine,
  webCryptoEd25519,
  type BatchReceipt,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { nodeSha256Hex, sodiumEd25519 } from '@hexedge/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ingest, MemoryDirectory, MemoryOracleStore } from '../src/index.ts';
import { keys, MODEL, tensorsFor } from './fixtures/reports.ts';

/*
 * The oracle's Node wiring (node:crypto's synchronous SHA-256, so receipt reports of the usual shape
 * get their leaves from report-fast-leaf.ts; libsodium's synchronous Ed25519, so a new root is
 * verified as its first leaf arrives, without a promise) answers every post — honest, forged,
 * replayed — exactly as the default wiring (WebCrypto, generic leaves): same verdicts, codes,
 * messages, sequence numbers, and one signature check per root.
 */
const NOW = Date.now();
const inputs = (i: number) => tensorsFor([20 + i, 50, 600], 'readings');
const outputs = (i: number) => tensorsFor([0.1, 0.9 - i / 1000]);
let gateway: NodeKeyPair, node: NodeKeyPair, other: NodeKeyPair, thief: NodeKeyPair;

beforeAll(async () => {
  [gateway, node, other, thief] = await keys(4);
});
afterAll(() => {
  useEd25519Engine(webCryptoEd25519);
});

async function receipts(signer: NodeKeyPair, from: number, n: number): Promise<BatchReceipt[]> {
  const bodies = await Promise.all(
    Array.from({ length: n }, async (_, k) => ({
      nodeId: signer.nodeId,
      requestId: `r${from + k} "é"`,
      ...MODEL,
      inputDigest: await tensorsDigest(inputs(from + k)),
      outputDigest: await tensorsDigest(outputs(from + k)),
      issuedAtMs: NOW,
      serviceTimeMs: 1.25,
    })),
  );
  return (await signBatch({ kind: 'receipt', bodies, keys: signer, nowMs: NOW })) as BatchReceipt[];
}
let nonces = 0;
const reportBody = (receipt: unknown, i: number, signer = gateway) => ({
  type: 'receipt' as const,
  nodeId: signer.nodeId,
  nonce: `nonce-${i}-${nonces++}`.padEnd(24, 'x'),
  issuedAtMs: NOW,
  receipt,
  request: {
    kind: 'tensors' as const,
    modelName: MODEL.modelName,
    modelVersion: MODEL.modelVersion,
    inputs: inputs(i),
  },
  result: { kind: 'tensors' as const, outputs: outputs(i) },
  ...(i % 3 === 0 ? { context: { priority: 'high' as const, deadlineMs: 500 } } : {}),
});
const post = async (bodies: Array<{ nodeId: string; issuedAtMs?: number }>, signer = gateway) =>
  JSON.parse(
    JSON.stringify(await signBatch({ kind: 'report', bodies, keys: signer, nowMs: NOW })),
  ) as unknown[];

/** Posts that each wiring ingests in turn: honest interleaved roots, then every forgery next to honest reports. */
async function corpus(): Promise<unknown[][]> {
  const [a, b] = await Promise.all([receipts(node, 0, 32), receipts(other, 100, 32)]);
  const interleaved = a.flatMap((r, i) => [r, b[i]!]);
  const [later] = await receipts(node, 500, 2);
  const x = a[3]!;
  const forged: unknown[] = [
    { ...x, batch: a[4]!.batch },
    { ...x, batch: { ...x.batch, root: later!.batch.root } },
    { ...x, batch: { ...x.batch, proof: [...x.batch.proof, 'a'.repeat(64)] } },
    { ...x, batch: { ...x.batch, proof: x.batch.proof.map((p, k) => (k === 1 ? p.toUpperCase() : p)) } },
    { ...x, batch: { ...x.batch, proof: x.batch.proof.slice(1) } },
    { ...x, batch: { ...x.batch, index: 40 } },
    { ...x, body: { ...x.body, modelName: 'other' } },
    { ...x, body: { ...x.body, nodeId: thief.nodeId } },
    { ...x, batch: { ...x.batch, root: { ...x.batch.root, signature: 'A'.repeat(86) } } },
    {
      ...x,
      batch: { ...x.batch, root: { ...x.batch.root, body: { ...x.batch.root.body, issuedAtMs: NOW + 1 } } },
    },
    {
      ...x,
      batch: { ...x.batch, root: await signBody('receipt-root', x.batch.root.body, thief.privateKey) },
    },
    { body: x.body, signature: 'A'.repeat(86) },
  ];
  const honest = await post(interleaved.slice(0, 40).map((r, i) => reportBody(r, i)));
  const mixed = await post([
    ...forged.map((r, i) => reportBody(r, 100 + i)),
    ...interleaved.slice(40).map((r, i) => reportBody(r, 200 + i)),
  ]);
  const replayedRoot = structuredClone(honest[1]) as { body: unknown };
  replayedRoot.body = reportBody(a[0], 300);
  const badReportRoot = structuredClone(honest[2]) as { batch: { root: { signature: string } } };
  badReportRoot.batch.root.signature = 'B'.repeat(86);
  const tampered = structuredClone(honest[5]) as { body: { request: { modelName: string } } };
  tampered.body.request.modelName = 'tampered';
  return [
    honest,
    mixed,
    [honest[0], honest[0], replayedRoot, badReportRoot, tampered, { v: 2, body: {}, batch: {} }, 'junk'],
    await post([reportBody(a[1], 400, thief)], thief),
    await post([{ ...reportBody(a[2], 401), issuedAtMs: NOW + 60_000 }]),
  ];
}

function wiring(node: boolean) {
  const directory = new MemoryDirectory();
  directory.putReporter({ nodeId: gateway.nodeId, roles: ['gateway'] });
  const store = new MemoryOracleStore();
  const ingest = new Ingest({
    store,
    directory,
    nowMs: () => NOW,
    ...(node ? { sha256: nodeSha256Hex } : {}),
  });
  return { ingest, engine: node ? sodiumEd25519! : webCryptoEd25519 };
}

describe('batch-signed ingest on the Node wiring', () => {
  it('answers every post as the default wiring does, with one signature check per root', async () => {
    expect(sodiumEd25519, 'sodium-native must load: the oracle’s engine').toBeDefined();
    const posts = await corpus();
    const plain = wiring(false);
    const fast = wiring(true);
    for (const p of posts) {
      useEd25519Engine(plain.engine);
      const expected = await plain.ingest.submitBatch(structuredClone(p), NOW);
      useEd25519Engine(fast.engine);
      const got = await fast.ingest.submitBatch(structuredClone(p), NOW);
      expect(got).toStrictEqual(expected);
    }
    useEd25519Engine(webCryptoEd25519);
    const results = posts.flat().length;
    expect(results).toBeGreaterThan(80);
    expect(fast.ingest.rootStats).toStrictEqual(plain.ingest.rootStats);
    // The honest reports of both nodes' roots were all accepted, the forgeries all refused.
    expect(fast.ingest.commitStats.reports).toBe(64);
    expect(fast.ingest.rootStats.receipts.misses).toBeLessThan(10);
  });
});
