import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../encoding.ts';
import { nodeSha256Hex } from '../node/sha256.ts';
import { buildMerkleTree, inclusionProofRoot, InnerNodeMemo, merkleLeafHash } from './merkle.ts';
import { VerifiedRoots } from './verified-roots.ts';

const leaves = (n: number, tag = 'leaf') =>
  Array.from({ length: n }, (_, i) => nodeSha256Hex.utf8(`\u0000${tag} ${i}`));

/** The walk without any memo: the spec the position-indexed walk must agree with. */
const plain = (o: { leafHash: string; index: number; count: number; proof: readonly string[] }) =>
  inclusionProofRoot({ ...o, sha256: nodeSha256Hex });

describe('inner nodes by position in a claimed tree (InnerNodeMemo.treeOf)', () => {
  it('gives every leaf the same root as the plain walk, hashing each inner node once', async () => {
    for (const n of [1, 2, 3, 5, 32, 37, 100]) {
      const ls = leaves(n);
      const { root, proofs } = await buildMerkleTree(ls, nodeSha256Hex);
      const memo = new InnerNodeMemo();
      let hashed = 0;
      const sha256 = Object.assign((bytes: Uint8Array) => (hashed++, nodeSha256Hex(bytes)), {
        utf8: nodeSha256Hex.utf8,
      });
      // Twice, in two orders: the second pass answers from the memo alone.
      for (const order of [ls.map((_, i) => i), ls.map((_, i) => n - 1 - i)])
        for (const i of order)
          expect(
            inclusionProofRoot({
              leafHash: ls[i]!,
              index: i,
              count: n,
              proof: proofs[i]!,
              sha256,
              memo,
              root,
            }),
          ).toEqual({
            root,
          });
      expect(hashed).toBe(n - 1);
    }
  });

  it('answers as the plain walk for forged proofs, twins of remembered entries and other claimed counts', async () => {
    const n = 37;
    const ls = leaves(n);
    const { root, proofs } = await buildMerkleTree(ls, nodeSha256Hex);
    const memo = new InnerNodeMemo();
    for (let i = 0; i < n; i++)
      inclusionProofRoot({
        leafHash: ls[i]!,
        index: i,
        count: n,
        proof: proofs[i]!,
        sha256: nodeSha256Hex,
        memo,
        root,
      });
    const other = leaves(n, 'other');
    let cases = 0;
    for (let i = 0; i < n; i++) {
      const proof = proofs[i]!;
      const variants: Array<{ leafHash: string; index: number; count: number; proof: unknown[] }> = [
        { leafHash: other[i]!, index: i, count: n, proof },
        { leafHash: ls[i]!, index: (i + 1) % n, count: n, proof },
        { leafHash: ls[i]!, index: i, count: n + 1, proof },
        { leafHash: ls[i]!, index: i, count: n - 1, proof },
        { leafHash: ls[i]!, index: i, count: 0, proof },
        { leafHash: ls[i]!, index: -1, count: n, proof },
        { leafHash: ls[i]!, index: i, count: n, proof: proof.slice(1) },
        { leafHash: ls[i]!, index: i, count: n, proof: [...proof, proof[0]!] },
      ];
      for (let k = 0; k < proof.length; k++) {
        for (const swap of [
          proof[k]!.toUpperCase(),
          other[k]!,
          'x'.repeat(64),
          '',
          7,
          null,
          proof[(k + 1) % proof.length]!,
        ]) {
          const forged: unknown[] = [...proof];
          forged[k] = swap;
          variants.push({ leafHash: ls[i]!, index: i, count: n, proof: forged });
        }
      }
      for (const v of variants) {
        const options = { ...v, proof: v.proof as string[] };
        expect(inclusionProofRoot({ ...options, sha256: nodeSha256Hex, memo, root })).toEqual(plain(options));
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(1000);
    // The plain walk still gives the honest root for every leaf after all that.
    for (let i = 0; i < n; i++)
      expect(
        inclusionProofRoot({
          leafHash: ls[i]!,
          index: i,
          count: n,
          proof: proofs[i]!,
          sha256: nodeSha256Hex,
          memo,
          root,
        }),
      ).toEqual({ root });
  });

  it('refuses a leaf hash that is not hex as the pair memo does, remembered pairs or not', async () => {
    const ls = leaves(5);
    const { root, proofs } = await buildMerkleTree(ls, nodeSha256Hex);
    const memo = new InnerNodeMemo();
    inclusionProofRoot({
      leafHash: ls[1]!,
      index: 1,
      count: 5,
      proof: proofs[1]!,
      sha256: nodeSha256Hex,
      memo,
      root,
    });
    for (const leafHash of ['not a hash', ls[1]!.toUpperCase()])
      for (const [index, count, proof] of [
        [1, 5, proofs[1]!],
        [9, 5, proofs[1]!],
        [0, 1, []],
        [1, 5, [7, ...proofs[1]!.slice(1)]],
      ] as const)
        expect(() =>
          inclusionProofRoot({
            leafHash,
            index,
            count,
            proof: proof as string[],
            sha256: nodeSha256Hex,
            memo,
            root,
          }),
        ).toThrow(/not a hex SHA-256/);
  });

  it('falls back to the promise walk with an asynchronous hash, with the same results', async () => {
    const ls = await Promise.all(
      leaves(9).map(async (_, i) => merkleLeafHash(new TextEncoder().encode(`l${i}`))),
    );
    const { root, proofs } = await buildMerkleTree(ls);
    const memo = new InnerNodeMemo();
    for (let i = 0; i < 9; i++)
      expect(
        await inclusionProofRoot({
          leafHash: ls[i]!,
          index: i,
          count: 9,
          proof: proofs[i]!,
          sha256: sha256Hex,
          memo,
          root,
        }),
      ).toEqual({
        root,
      });
  });

  it('stays bounded: trees and their pairs count toward the memo size, cleared when full', async () => {
    const memo = new InnerNodeMemo({ maxNodes: 8 });
    for (let t = 0; t < 5; t++) {
      const ls = leaves(4, `tree ${t}`);
      const { root, proofs } = await buildMerkleTree(ls, nodeSha256Hex);
      for (let i = 0; i < 4; i++)
        expect(
          inclusionProofRoot({
            leafHash: ls[i]!,
            index: i,
            count: 4,
            proof: proofs[i]!,
            sha256: nodeSha256Hex,
            memo,
            root,
          }),
        ).toEqual({
          root,
        });
    }
    // A fresh tree after a clear: the latest one's nodes only.
    expect(memo.treeOf('f'.repeat(64), 4).size).toBe(0);
  });
});

describe('VerifiedRoots.hasRoot (has without building the key and signed text)', () => {
  interface Fields {
    kind: string;
    nodeId: string;
    root: string;
    leafCount: unknown;
    issuedAtMs: unknown;
    signature: string;
  }
  const hasRoot = (roots: VerifiedRoots, f: Fields) => roots.hasRoot(f.kind, f, f.signature);
  const fields = (over: Partial<Fields> = {}): Fields => ({
    kind: 'receipt',
    nodeId: 'n'.repeat(43),
    root: 'a'.repeat(64),
    leafCount: 32,
    issuedAtMs: 1_750_000_000_000,
    signature: 's'.repeat(86),
    ...over,
  });
  const keyAndSigned = (f: Fields) =>
    [
      VerifiedRoots.keyOf(f.kind, f.nodeId, f.root),
      VerifiedRoots.signedOf(f.leafCount, f.issuedAtMs, f.signature),
    ] as const;

  it('answers as has for the same root, and for every field changed', () => {
    const roots = new VerifiedRoots();
    const f = fields();
    roots.add(...keyAndSigned(f));
    for (let i = 0; i < 3; i++) expect(hasRoot(roots, f)).toBe(true);
    for (const over of [
      { kind: 'report' },
      { nodeId: 'm'.repeat(43) },
      { root: 'b'.repeat(64) },
      { leafCount: 31 },
      { issuedAtMs: 1 },
      { signature: 't'.repeat(86) },
      { leafCount: '32' },
      { issuedAtMs: '1750000000000' },
      { leafCount: NaN },
    ] as const) {
      const g = fields(over as never);
      const [key, signed] = keyAndSigned(g);
      const fresh = new VerifiedRoots();
      fresh.add(...keyAndSigned(f));
      const expected = fresh.has(key, signed);
      expect(hasRoot(roots, g)).toBe(expected);
    }
    expect(roots.stats.hits).toBeGreaterThan(3);
  });

  it('forgets what the generations dropped, and a root signed anew under the same key', () => {
    const roots = new VerifiedRoots({ maxRoots: 4 });
    const f = fields();
    roots.add(...keyAndSigned(f));
    expect(hasRoot(roots, f)).toBe(true);
    for (let i = 0; i < 6; i++) roots.add(...keyAndSigned(fields({ root: String(i).repeat(64) })));
    expect(roots.has(...keyAndSigned(f))).toBe(false);
    expect(hasRoot(roots, f)).toBe(false);

    const g = fields({ root: 'c'.repeat(64) });
    roots.add(...keyAndSigned(g));
    expect(hasRoot(roots, g)).toBe(true);
    const resigned = { ...g, signature: 'u'.repeat(86) };
    roots.add(...keyAndSigned(resigned));
    expect(hasRoot(roots, g)).toBe(false);
    expect(hasRoot(roots, resigned)).toBe(true);
  });
});

describe('VerifiedRoots.verifyNow (a synchronous engine verifies a root without a promise)', () => {
  it('answers and caches synchronously for a synchronous check, joins a check under way otherwise', async () => {
    const roots = new VerifiedRoots();
    expect(roots.verifyNow('k1', 's', () => true)).toEqual({ ok: true, cached: false });
    expect(roots.verifyNow('k1', 's', () => false)).toEqual({ ok: true, cached: true });
    expect(roots.verifyNow('k2', 's', () => false)).toEqual({ ok: false, cached: false });
    expect(roots.has('k2', 's')).toBe(false);
    let settle!: (ok: boolean) => void;
    const first = roots.verifyNow('k3', 's', () => new Promise<boolean>((r) => (settle = r)));
    const joined = roots.verifyNow('k3', 's', () => true);
    expect(first).toBeInstanceOf(Promise);
    expect(joined).toBeInstanceOf(Promise);
    settle(true);
    expect(await first).toEqual({ ok: true, cached: false });
    expect(await joined).toEqual({ ok: true, cached: true });
    expect(roots.stats).toEqual({ hits: 2, misses: 3 });
  });
});
