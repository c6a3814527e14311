import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../encoding.ts';
import {
  buildMerkleTree,
  inclusionProofLength,
  InnerNodeMemo,
  MAX_PROOF_HASHES,
  merkleLeafHash,
  rootFromInclusionProof,
} from './merkle.ts';

const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
// RFC 6962's test leaves and roots (certificate-transparency's merkle_tree_test vectors).
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

async function leafHashes(n: number): Promise<string[]> {
  return Promise.all(LEAVES.slice(0, n).map((l) => merkleLeafHash(hex(l))));
}

describe('RFC 6962 batch tree', () => {
  it('gives the RFC 6962 roots for 1 to 8 leaves', async () => {
    for (let n = 1; n <= 8; n++) expect((await buildMerkleTree(await leafHashes(n))).root).toBe(ROOTS[n - 1]);
  });

  it('proves every leaf of every tree size up to 70, with proofs exactly as long as the walk expects', async () => {
    for (let n = 1; n <= 70; n++) {
      const leaves = await Promise.all(
        Array.from({ length: n }, (_, i) => merkleLeafHash(new TextEncoder().encode(`leaf ${i}`))),
      );
      const { root, proofs } = await buildMerkleTree(leaves);
      for (let i = 0; i < n; i++) {
        expect(proofs[i]!.length).toBe(inclusionProofLength(i, n));
        expect(
          await rootFromInclusionProof({ leafHash: leaves[i]!, index: i, count: n, proof: proofs[i]! }),
        ).toEqual({ root });
      }
    }
  });

  it('refuses an index outside the tree, a proof of the wrong length and a non-hash entry', async () => {
    const leaves = await leafHashes(5);
    const { proofs } = await buildMerkleTree(leaves);
    const at = (o: Partial<Parameters<typeof rootFromInclusionProof>[0]>) =>
      rootFromInclusionProof({ leafHash: leaves[1]!, index: 1, count: 5, proof: proofs[1]!, ...o });
    expect(await at({ index: 5 })).toEqual({ fault: 'INDEX_OUT_OF_RANGE' });
    expect(await at({ index: -1 })).toEqual({ fault: 'INDEX_OUT_OF_RANGE' });
    expect(await at({ count: 0 })).toEqual({ fault: 'INDEX_OUT_OF_RANGE' });
    expect(await at({ proof: [...proofs[1]!, proofs[1]![0]!] })).toEqual({ fault: 'PROOF_LENGTH' });
    expect(await at({ proof: proofs[1]!.slice(1) })).toEqual({ fault: 'PROOF_LENGTH' });
    expect(await at({ proof: Array(MAX_PROOF_HASHES + 1).fill(leaves[0]) })).toEqual({
      fault: 'PROOF_LENGTH',
    });
    expect(await at({ proof: ['zz'.repeat(32), ...proofs[1]!.slice(1)] })).toEqual({
      fault: 'PROOF_MALFORMED',
    });
  });

  it('does not take an inner node for a leaf (domain separation)', async () => {
    const leaves = await leafHashes(4);
    const { root, proofs } = await buildMerkleTree(leaves);
    // The inner node over leaves 0 and 1, offered as if it were a leaf of a 2-leaf tree with leaf 2–3's node.
    const inner01 = proofs[2]![1]!;
    const inner23 = proofs[0]![1]!;
    const forged = await rootFromInclusionProof({ leafHash: inner01, index: 0, count: 2, proof: [inner23] });
    expect(forged).toEqual({ root });
    // …which is why a leaf's hash is always computed from its bytes with the 0x00 prefix: the bytes of
    // that inner node's children, hashed as a leaf, lead elsewhere.
    const asLeaf = await merkleLeafHash(hex(leaves[0]! + leaves[1]!));
    expect(asLeaf).not.toBe(inner01);
  });
});

describe('InnerNodeMemo (inner nodes reused across the leaves of one tree)', () => {
  it('gives every leaf the same root as without it, and hashes fewer nodes', async () => {
    const n = 37;
    const leaves = await Promise.all(
      Array.from({ length: n }, (_, i) => merkleLeafHash(new TextEncoder().encode(`leaf ${i}`))),
    );
    const { root, proofs } = await buildMerkleTree(leaves);
    const memo = new InnerNodeMemo();
    let hashed = 0;
    const sha256 = (bytes: Uint8Array) => {
      hashed++;
      return sha256Hex(bytes);
    };
    for (let i = 0; i < n; i++)
      expect(
        await rootFromInclusionProof({
          leafHash: leaves[i]!,
          index: i,
          count: n,
          proof: proofs[i]!,
          sha256,
          memo,
        }),
      ).toEqual({ root });
    const fullPaths = proofs.reduce((sum, p) => sum + p.length, 0);
    // Every inner node once: n - 1 of them, far fewer than the paths' total.
    expect(hashed).toBe(n - 1);
    expect(hashed).toBeLessThan(fullPaths);
  });

  it('still refuses a malformed entry, an uppercase twin of a remembered one included', async () => {
    const leaves = await leafHashes(5);
    const { root, proofs } = await buildMerkleTree(leaves);
    const memo = new InnerNodeMemo();
    expect(
      await rootFromInclusionProof({ leafHash: leaves[1]!, index: 1, count: 5, proof: proofs[1]!, memo }),
    ).toEqual({
      root,
    });
    const upper = [proofs[1]![0]!.toUpperCase(), ...proofs[1]!.slice(1)];
    expect(
      await rootFromInclusionProof({ leafHash: leaves[1]!, index: 1, count: 5, proof: upper, memo }),
    ).toEqual({
      fault: 'PROOF_MALFORMED',
    });
    await expect(
      rootFromInclusionProof({ leafHash: 'not a hash', index: 1, count: 5, proof: proofs[1]!, memo }),
    ).rejects.toThrow(/not a hex SHA-256/);
  });

  it('stays bounded: cleared when full', () => {
    const memo = new InnerNodeMemo({ maxNodes: 2 });
    memo.set('a', 'b', 'ab');
    memo.set('a', 'c', 'ac');
    expect(memo.get('a', 'b')).toBe('ab');
    memo.set('d', 'e', 'de');
    expect(memo.get('a', 'b')).toBeUndefined();
    expect(memo.get('d', 'e')).toBe('de');
  });
});
