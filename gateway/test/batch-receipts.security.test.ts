import {
  buildMerkleTree,
  batchLeafHash,
  generateNodeKeyPair,
  RECEIPT_PARAMETER,
  signBatch,
  signBody,
  tensorsDigest,
  type BatchReceipt,
  type NodeKeyPair,
  type Tensor,
  VerifiedRoots,
  verifyBatchSigned,
  type BatchSigned,
} from '@hexedge/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkReceipt, ReceiptForwarder } from '../src/index.ts';
import { CONTENT_ID } from './fake-nodes.ts';

/*
 * The gateway's receipt check against batch-signed receipts (v2), attacked: each forgery must be a
 * RECEIPT_INVALID naming why, so the gateway fails over and never passes the answer on.
 */
const inputsOf = (i: number): Tensor[] => [{ name: 'x', datatype: 'FP32', shape: [1], data: [i] }];
const outputsOf = (i: number): Tensor[] => [{ name: 'y', datatype: 'FP32', shape: [1], data: [2 * i] }];

let node: NodeKeyPair;
let other: NodeKeyPair;
let batch: BatchReceipt[];

async function bodyOf(nodeId: string, i: number) {
  return {
    nodeId,
    requestId: `r${i}`,
    modelName: 'm',
    modelVersion: '1',
    modelContentId: CONTENT_ID,
    inputDigest: await tensorsDigest(inputsOf(i)),
    outputDigest: await tensorsDigest(outputsOf(i)),
    issuedAtMs: Date.now(),
    serviceTimeMs: 1,
  };
}
async function signedBatch(keys: NodeKeyPair, from: number, n: number): Promise<BatchReceipt[]> {
  const bodies = await Promise.all(Array.from({ length: n }, (_, i) => bodyOf(keys.nodeId, from + i)));
  return (await signBatch({ kind: 'receipt', bodies, keys, nowMs: Date.now() })) as BatchReceipt[];
}
/** The gateway's check of the answer to request `r<i>` from `nodeId`, carrying `receipt`. */
const check = (receipt: unknown, i: number, nodeId = node.nodeId) =>
  checkReceipt({
    parameters: { [RECEIPT_PARAMETER]: JSON.stringify(receipt) },
    nodeId,
    requestId: `r${i}`,
    modelName: 'm',
    modelVersion: '1',
    modelContentId: CONTENT_ID,
    digests: { kind: 'tensors', inputs: inputsOf(i), outputs: outputsOf(i) },
  });
const refused = (why: RegExp) =>
  expect.objectContaining({ code: 'RECEIPT_INVALID', message: expect.stringMatching(why) });

beforeAll(async () => {
  [node, other] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
  batch = await signedBatch(node, 0, 6);
});

describe('batch-signed receipts at the gateway', () => {
  it('accepts each answer of a batch with its own receipt', async () => {
    for (const [i, r] of batch.entries()) await expect(check(r, i)).resolves.toMatchObject({ v: 2 });
  });

  it('refuses a leaf swapped between two answers', async () => {
    // Answer 0 carrying answer 1's whole receipt: it covers another request.
    await expect(check(batch[1], 0)).rejects.toEqual(refused(/names request r1, expected r0/));
    // Answer 0's leaf with answer 1's place in the batch: the proof leads elsewhere.
    await expect(check({ ...batch[0], batch: batch[1]!.batch }, 0)).rejects.toEqual(
      refused(/PROOF_MISMATCH/),
    );
  });

  it('refuses a proof for another root', async () => {
    const later = await signedBatch(node, 100, 6);
    const mixed = { ...batch[2], batch: { ...batch[2]!.batch, root: later[2]!.batch.root } };
    await expect(check(mixed, 2)).rejects.toEqual(refused(/PROOF_MISMATCH/));
  });

  it('refuses a root signed by another node', async () => {
    const leaves = await Promise.all(batch.map((r) => batchLeafHash('receipt', r.body)));
    const { root } = await buildMerkleTree(leaves);
    const theirs = await signBody(
      'receipt-root',
      { nodeId: other.nodeId, root, leafCount: 6, issuedAtMs: 1 },
      other.privateKey,
    );
    await expect(check({ ...batch[3], batch: { ...batch[3]!.batch, root: theirs } }, 3)).rejects.toEqual(
      refused(/ROOT_SIGNER_MISMATCH/),
    );
    const posing = await signBody(
      'receipt-root',
      { nodeId: node.nodeId, root, leafCount: 6, issuedAtMs: 1 },
      other.privateKey,
    );
    await expect(check({ ...batch[3], batch: { ...batch[3]!.batch, root: posing } }, 3)).rejects.toEqual(
      refused(/ROOT_SIGNATURE/),
    );
  });

  it('refuses a replayed root with a new leaf', async () => {
    // The node (or anyone holding an old answer) re-uses a signed root for an answer it never committed.
    const fresh = await bodyOf(node.nodeId, 7);
    await expect(check({ ...batch[4], body: fresh }, 7)).rejects.toEqual(refused(/PROOF_MISMATCH/));
  });

  it('refuses an oversized proof', async () => {
    const padded = {
      ...batch[5],
      batch: { ...batch[5]!.batch, proof: [...batch[5]!.batch.proof, 'a'.repeat(64)] },
    };
    await expect(check(padded, 5)).rejects.toEqual(refused(/PROOF_LENGTH/));
    const giant = { ...batch[5], batch: { ...batch[5]!.batch, proof: Array(1000).fill('a'.repeat(64)) } };
    await expect(check(giant, 5)).rejects.toEqual(refused(/malformed \(batch\.proof/));
  });

  it("refuses node A's cached root presented as node B's", async () => {
    // batch[0]'s root is cached by now; B presents it with A's signature over its own leaf.
    const b = { ...(await bodyOf(other.nodeId, 0)) };
    const asB = {
      v: 2,
      body: b,
      batch: {
        ...batch[0]!.batch,
        root: { ...batch[0]!.batch.root, body: { ...batch[0]!.batch.root.body, nodeId: other.nodeId } },
      },
    };
    await expect(check(asB, 0, other.nodeId)).rejects.toEqual(refused(/PROOF_MISMATCH/));
    // A's own leaf and root, sent as B's answer.
    await expect(check(batch[0], 0, other.nodeId)).rejects.toEqual(
      refused(/signed by .*, not by the node that was asked/),
    );
  });
});

describe('receipt reports to the oracle', () => {
  it('are batch-signed: one root per post, each report verifiable alone', async () => {
    const posts: Array<Array<BatchSigned<{ nodeId: string; type: string }>>> = [];
    const gatewayKey = await generateNodeKeyPair();
    const forwarder = new ReceiptForwarder({
      oracleUrl: 'http://oracle.test',
      keys: gatewayKey,
      batchSize: 4,
      fetch: (async (_url: string, init: RequestInit) => {
        posts.push(JSON.parse(init.body as string));
        return new Response(JSON.stringify({ accepted: posts.at(-1)!.length }), { status: 202 });
      }) as typeof fetch,
    });
    for (const [i, receipt] of batch.entries())
      forwarder.onAnswered(
        { model: 'm', location: { lat: 52, lng: 5 }, inputs: inputsOf(i) as never },
        {
          id: `r${i}`,
          model_name: 'm',
          model_version: '1',
          outputs: outputsOf(i) as never,
          node: { id: node.nodeId, cell: 'c', distanceKm: 1 },
          timing: { placementMs: 0, nodeMs: 1, totalMs: 1 },
          receipt,
        },
      );
    await forwarder.flush();
    expect(posts.map((p) => p.length)).toEqual([4, 2]);
    const roots = new VerifiedRoots();
    for (const post of posts) {
      expect(new Set(post.map((r) => r.batch.root.signature)).size).toBe(1);
      for (const report of post) {
        expect(report).toMatchObject({ v: 2, body: { type: 'receipt', nodeId: gatewayKey.nodeId } });
        expect(await verifyBatchSigned('report', report, { roots })).toMatchObject({ ok: true });
      }
    }
    expect(roots.stats.misses).toBe(2);
  });
});
