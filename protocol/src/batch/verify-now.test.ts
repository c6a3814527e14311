import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Sha256Hex } from '../encoding.ts';
import { generateNodeKeyPair } from '../identity.ts';
import { signBatch, verifyBatchSigned, verifyBatchSignedNow, type BatchSigned } from './batch-signing.ts';
import { VerifiedRoots } from './verified-roots.ts';

const syncSha256: Sha256Hex = (bytes) => hash('sha256', bytes, 'hex');

describe('verifyBatchSignedNow: verifyBatchSigned without a promise where it can', () => {
  it('answers a leaf of an already-verified root synchronously (sync SHA-256), a new root by a promise', async () => {
    const keys = await generateNodeKeyPair();
    const bodies = [0, 1, 2, 3, 4].map((i) => ({ nodeId: keys.nodeId, i }));
    const signed = await signBatch({ kind: 'receipt', bodies, keys, nowMs: 1, sha256: syncSha256 });
    const roots = new VerifiedRoots();
    const first = verifyBatchSignedNow('receipt', signed[0]!, { roots, sha256: syncSha256 });
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toEqual({ ok: true, cachedRoot: false });
    for (const item of signed.slice(1))
      expect(verifyBatchSignedNow('receipt', item, { roots, sha256: syncSha256 })).toEqual({
        ok: true,
        cachedRoot: true,
      });
    // WebCrypto's hash is asynchronous: the same verdict, through a promise.
    const web = verifyBatchSignedNow('receipt', signed[1]!, { roots });
    expect(web).toBeInstanceOf(Promise);
    expect(await web).toEqual({ ok: true, cachedRoot: true });
  });

  it('gives verifyBatchSigned’s verdicts, messages included, for tampered and malformed messages', async () => {
    const keys = await generateNodeKeyPair();
    const other = await generateNodeKeyPair();
    const bodies = [0, 1, 2].map((i) => ({ nodeId: keys.nodeId, i }));
    const signed = await signBatch({ kind: 'report', bodies, keys, nowMs: 1, sha256: syncSha256 });
    const item = signed[2]!;
    const root = item.batch.root;
    const cases: unknown[] = [
      item,
      { ...item, body: bodies[0] },
      { ...item, body: { ...item.body, nodeId: other.nodeId } },
      { ...item, batch: { ...item.batch, index: 7 } },
      { ...item, batch: { ...item.batch, proof: [...item.batch.proof, 'a'.repeat(64)] } },
      { ...item, batch: { ...item.batch, proof: item.batch.proof.map(() => 'X'.repeat(64)) } },
      { ...item, batch: { ...item.batch, root: { ...root, signature: root.signature.replace(/^./, 'A') } } },
      { ...item, batch: { ...item.batch, root: { ...root, body: { ...root.body, issuedAtMs: 2 } } } },
      { ...item, batch: { ...item.batch, root: { body: root.body } } },
      { v: 2, body: item.body },
      null,
    ];
    // Without a cache, with an empty one, and with one that has verified the genuine root.
    const cachesOf = async (kind: 'none' | 'empty' | 'warm') => {
      if (kind === 'none') return {};
      const roots = new VerifiedRoots();
      if (kind === 'warm') await verifyBatchSigned('report', item, { roots, sha256: syncSha256 });
      return { roots };
    };
    for (const kind of ['none', 'empty', 'warm'] as const)
      for (const c of cases) {
        const message = c as BatchSigned<{ nodeId: string }>;
        const now = verifyBatchSignedNow('report', message, {
          sha256: syncSha256,
          ...(await cachesOf(kind)),
        });
        const before = verifyBatchSigned('report', message, {
          sha256: syncSha256,
          ...(await cachesOf(kind)),
        });
        expect(await now).toEqual(await before);
      }
  });

  it('lets the leaves of one new root share its one signature check, forged or genuine', async () => {
    const keys = await generateNodeKeyPair();
    const bodies = Array.from({ length: 8 }, (_, i) => ({ nodeId: keys.nodeId, i }));
    const signed = await signBatch({ kind: 'receipt', bodies, keys, nowMs: 1, sha256: syncSha256 });
    const roots = new VerifiedRoots();
    const verdicts = await Promise.all(
      signed.map((item) => verifyBatchSignedNow('receipt', item, { roots, sha256: syncSha256 })),
    );
    expect(verdicts[0]).toEqual({ ok: true, cachedRoot: false });
    for (const v of verdicts.slice(1)) expect(v).toEqual({ ok: true, cachedRoot: true });
    expect(roots.stats).toEqual({ hits: 7, misses: 1 });

    const forgedRoot = {
      ...signed[0]!.batch.root,
      signature: signed[0]!.batch.root.signature.replace(/^./, 'B'),
    };
    const forged = signed.map((item) => ({ ...item, batch: { ...item.batch, root: forgedRoot } }));
    const fresh = new VerifiedRoots();
    const refused = await Promise.all(
      forged.map((item) => verifyBatchSignedNow('receipt', item, { roots: fresh, sha256: syncSha256 })),
    );
    for (const v of refused)
      expect(v).toEqual({
        ok: false,
        fault: 'ROOT_SIGNATURE',
        message: `receipt root signature does not verify for ${keys.nodeId}`,
      });
    expect(fresh.stats).toEqual({ hits: 7, misses: 1 });
    // Nothing forged is remembered: the next leaf is checked again.
    expect(
      await verifyBatchSignedNow('receipt', forged[0]!, { roots: fresh, sha256: syncSha256 }),
    ).toMatchObject({
      fault: 'ROOT_SIGNATURE',
    });
    expect(fresh.stats.misses).toBe(2);
  });
});
