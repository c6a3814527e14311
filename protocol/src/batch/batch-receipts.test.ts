import { describe, expect, it } from 'vitest';
import { generateNodeKeyPair, type NodeKeyPair } from '../identity.ts';
import { isValidSignature, signBody, signingInput } from '../signing.ts';
import type { BatchReceipt, ReceiptBody } from '../schemas/receipt.ts';
import { buildMerkleTree, merkleLeafHash } from './merkle.ts';
import { batchLeafHash, signBatch } from './batch-signing.ts';
import { VerifiedRoots } from './verified-roots.ts';
import { verifyReceipt, verifyReceiptJson } from './verify-receipt.ts';

const hex = (c: string) => c.repeat(64);
function bodyOf(keys: NodeKeyPair, i: number): ReceiptBody {
  return {
    nodeId: keys.nodeId,
    requestId: `req-${i}`,
    modelName: 'comfort-index',
    modelVersion: '1.0.0',
    modelContentId: hex('a'),
    inputDigest: (i.toString(16).padStart(2, '0') + hex('b')).slice(0, 64),
    outputDigest: hex('c'),
    issuedAtMs: 1_700_000_000_000 + i,
    serviceTimeMs: 0.25,
  };
}
async function batchOf(keys: NodeKeyPair, n: number, from = 0): Promise<BatchReceipt[]> {
  const bodies = Array.from({ length: n }, (_, i) => bodyOf(keys, from + i));
  return (await signBatch({ kind: 'receipt', bodies, keys, nowMs: 1_700_000_000_500 })) as BatchReceipt[];
}
const clone = <T>(v: T): T => structuredClone(v);

describe('batch-signed receipts (v2)', async () => {
  const alice = await generateNodeKeyPair();
  const mallory = await generateNodeKeyPair();

  it('verifies every receipt of a batch alone, from its own JSON, checking the root signature once', async () => {
    const receipts = await batchOf(alice, 37);
    const roots = new VerifiedRoots();
    const verdicts = [];
    for (const r of receipts) verdicts.push(await verifyReceiptJson(JSON.stringify(r), { roots }));
    expect(verdicts.every((v) => v.ok)).toBe(true);
    expect(verdicts.filter((v) => v.ok && !v.cachedRoot)).toHaveLength(1);
    expect(roots.stats).toEqual({ hits: 36, misses: 1 });
    // Without a cache (an offline verifier) each one still verifies.
    expect(await verifyReceipt(receipts[20]!)).toEqual({ ok: true, version: 2, cachedRoot: false });
  });

  it('checks a root once even when its leaves arrive together', async () => {
    const receipts = await batchOf(alice, 20);
    const roots = new VerifiedRoots();
    const verdicts = await Promise.all(receipts.map((r) => verifyReceipt(r, { roots })));
    expect(verdicts.every((v) => v.ok)).toBe(true);
    expect(roots.stats).toEqual({ hits: 19, misses: 1 });
  });

  it('keeps v1 receipts (signed alone) verifiable, and refuses a tampered one', async () => {
    const single = await signBody('receipt', bodyOf(alice, 1), alice.privateKey);
    expect(await verifyReceipt(single)).toEqual({ ok: true, version: 1, cachedRoot: false });
    const tampered = { ...single, body: { ...single.body, outputDigest: hex('d') } };
    expect(await verifyReceipt(tampered)).toMatchObject({ ok: false, fault: 'SIGNATURE' });
  });

  it('refuses a leaf swapped between two answers of one batch', async () => {
    const [a, b] = await batchOf(alice, 2);
    const swapped = { ...clone(a!), body: b!.body };
    expect(await verifyReceipt(swapped, { roots: new VerifiedRoots() })).toMatchObject({
      ok: false,
      fault: 'PROOF_MISMATCH',
    });
  });

  it('refuses a proof for another root', async () => {
    const [first] = await batchOf(alice, 4);
    const [other] = await batchOf(alice, 4, 100);
    const roots = new VerifiedRoots();
    expect((await verifyReceipt(other!, { roots })).ok).toBe(true);
    const mixed = { ...clone(first!), batch: { ...first!.batch, root: other!.batch.root } };
    expect(await verifyReceipt(mixed, { roots })).toMatchObject({ ok: false, fault: 'PROOF_MISMATCH' });
  });

  it('refuses a root signed by another node, whether it says so or claims to be the node', async () => {
    const [honest] = await batchOf(alice, 3);
    // Mallory signs a root over Alice's leaves with her own key and says so.
    const leaves = await Promise.all((await batchOf(alice, 3)).map((r) => batchLeafHash('receipt', r.body)));
    const { root } = await buildMerkleTree(leaves);
    const rootBody = { nodeId: mallory.nodeId, root, leafCount: 3, issuedAtMs: 1 };
    const malloryRoot = await signBody('receipt-root', rootBody, mallory.privateKey);
    const said = { ...clone(honest!), batch: { ...honest!.batch, root: malloryRoot } };
    expect(await verifyReceipt(said)).toMatchObject({ ok: false, fault: 'ROOT_SIGNER_MISMATCH' });
    // …or claims the root is Alice's while signing it herself.
    const claimed = await signBody('receipt-root', { ...rootBody, nodeId: alice.nodeId }, mallory.privateKey);
    const forged = { ...clone(honest!), batch: { ...honest!.batch, root: claimed } };
    expect(await verifyReceipt(forged)).toMatchObject({ ok: false, fault: 'ROOT_SIGNATURE' });
  });

  it('refuses a replayed root with new leaves', async () => {
    const [honest] = await batchOf(alice, 8);
    const roots = new VerifiedRoots();
    expect((await verifyReceipt(honest!, { roots })).ok).toBe(true);
    // The same signed root, a leaf the node never signed: the old proof …
    const newLeaf = { ...honest!.body, outputDigest: hex('e'), requestId: 'never-answered' };
    expect(await verifyReceipt({ ...clone(honest!), body: newLeaf }, { roots })).toMatchObject({
      ok: false,
      fault: 'PROOF_MISMATCH',
    });
    // … or a proof from a tree the attacker built over new leaves: neither leads to the signed root.
    const bodies = Array.from({ length: 8 }, (_, i) => ({ ...bodyOf(alice, i), outputDigest: hex('f') }));
    const leaves = await Promise.all(bodies.map((b) => batchLeafHash('receipt', b)));
    const { proofs } = await buildMerkleTree(leaves);
    const replayed = {
      ...clone(honest!),
      body: bodies[0]!,
      batch: { ...honest!.batch, index: 0, proof: proofs[0]! },
    };
    expect(await verifyReceipt(replayed, { roots })).toMatchObject({ ok: false, fault: 'PROOF_MISMATCH' });
  });

  it('refuses an oversized proof and an index outside the batch', async () => {
    const [honest] = await batchOf(alice, 8);
    const long = {
      ...clone(honest!),
      batch: { ...honest!.batch, proof: [...honest!.batch.proof, hex('0')] },
    };
    expect(await verifyReceipt(long)).toMatchObject({ ok: false, fault: 'PROOF_LENGTH' });
    expect(
      (
        await verifyReceiptJson(
          JSON.stringify({ ...long, batch: { ...long.batch, proof: Array(49).fill(hex('0')) } }),
        )
      ).ok,
    ).toBe(false);
    const outside = { ...clone(honest!), batch: { ...honest!.batch, index: 8 } };
    expect(await verifyReceipt(outside)).toMatchObject({ ok: false, fault: 'INDEX_OUT_OF_RANGE' });
  });

  it("refuses node A's cached root presented as node B's", async () => {
    const [a] = await batchOf(alice, 4);
    const roots = new VerifiedRoots();
    expect((await verifyReceipt(a!, { roots })).ok).toBe(true);
    // Same root, same signature, now claimed by Mallory for a body of hers: not a cache hit, and the signature is Alice's.
    const asB = {
      ...clone(a!),
      body: { ...a!.body, nodeId: mallory.nodeId },
      batch: {
        ...a!.batch,
        root: { ...a!.batch.root, body: { ...a!.batch.root.body, nodeId: mallory.nodeId } },
      },
    };
    // Mallory's body is not a leaf of Alice's tree.
    expect(await verifyReceipt(asB, { roots })).toMatchObject({ ok: false, fault: 'PROOF_MISMATCH' });
    // Even with a leaf that does hash into Alice's root (her own body), the cache keys on the signer.
    const leafOk = { ...clone(a!), batch: { ...a!.batch, root: asB.batch.root } };
    expect(await verifyReceipt(leafOk, { roots })).toMatchObject({
      ok: false,
      fault: 'ROOT_SIGNER_MISMATCH',
    });
    expect(roots.stats.hits).toBe(0);
    // And the cache itself vouches only for the signer it verified.
    const { root, leafCount, issuedAtMs } = a!.batch.root.body;
    const signed = `${leafCount}\n${issuedAtMs}\n${a!.batch.root.signature}`;
    expect(roots.has(VerifiedRoots.keyOf('receipt', alice.nodeId, root), signed)).toBe(true);
    expect(roots.has(VerifiedRoots.keyOf('receipt', mallory.nodeId, root), signed)).toBe(false);
    expect(roots.has(VerifiedRoots.keyOf('report', alice.nodeId, root), signed)).toBe(false);
  });

  it('hashes a leaf as SHA-256(0x00 ‖ the bytes a v1 signature covers)', async () => {
    const body = bodyOf(alice, 3);
    expect(await batchLeafHash('receipt', body)).toBe(await merkleLeafHash(signingInput('receipt', body)));
  });

  it('never takes a root signature for a receipt signature (domain tags)', async () => {
    const [a] = await batchOf(alice, 1);
    const asReceipt = { body: a!.batch.root.body, signature: a!.batch.root.signature };
    expect(await isValidSignature('receipt', asReceipt)).toBe(false);
    expect(await isValidSignature('receipt-root', asReceipt)).toBe(true);
  });

  it('bounds the cache: the least recently used root goes first', () => {
    const roots = new VerifiedRoots({ maxRoots: 2 });
    roots.add('a', '1');
    roots.add('b', '1');
    expect(roots.has('a', '1')).toBe(true);
    roots.add('c', '1');
    expect(roots.size).toBe(2);
    expect(roots.has('b', '1')).toBe(false);
    expect(roots.has('a', '1')).toBe(true);
    expect(roots.has('a', '2')).toBe(false);
  });
});
