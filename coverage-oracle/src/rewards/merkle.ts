import { sha256 } from '@hexedge/protocol';

/**
 * SHA-256 Merkle tree with RFC 6962-style domain separation, so a leaf can never be passed off as an
 * inner node: leaf = SHA-256(0x00 ‖ leaf bytes), node = SHA-256(0x01 ‖ left ‖ right). An odd node at
 * the end of a level is promoted unchanged (never paired with itself, which would let two different
 * leaf lists share a root). The empty tree's root is SHA-256 of no bytes.
 */
export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;

export interface MerkleProofStep {
  hash: string;
  /** Which side the sibling sits on. */
  position: 'left' | 'right';
}
export interface MerkleProof {
  leafIndex: number;
  siblings: MerkleProofStep[];
}

function concat(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0));
  out[0] = prefix;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
function fromHex(hex: string): Uint8Array | null {
  if (!/^[0-9a-f]{64}$/.test(hex)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function merkleLeafHash(leaf: Uint8Array): Promise<Uint8Array> {
  return sha256(concat(LEAF_PREFIX, leaf));
}
function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha256(concat(NODE_PREFIX, left, right));
}

/**
 * Every level of the tree, leaves' hashes first and the root last: built once, it answers any leaf's
 * proof without hashing again (`proofFromLevels`), so a published epoch's proofs cost no tree per request.
 */
export async function buildMerkleLevels(leaves: readonly Uint8Array[]): Promise<Uint8Array[][]> {
  if (leaves.length === 0) return [[await sha256(new Uint8Array(0))]];
  let level = await Promise.all(leaves.map(merkleLeafHash));
  const levels = [level];
  while (level.length > 1) {
    const next: Array<Promise<Uint8Array>> = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? nodeHash(level[i]!, level[i + 1]!) : Promise.resolve(level[i]!));
    level = await Promise.all(next);
    levels.push(level);
  }
  return levels;
}

/** The root of built levels, as hex. */
export const rootOfLevels = (levels: readonly Uint8Array[][]): string => toHex(levels.at(-1)![0]!);

/** Leaf `leafIndex`'s proof from built levels: its sibling at each level below the root, when it has one. */
export function proofFromLevels(levels: readonly Uint8Array[][], leafIndex: number): MerkleProof {
  const siblings: MerkleProofStep[] = [];
  let at = leafIndex;
  for (const level of levels.slice(0, -1)) {
    const sibling = at % 2 === 0 ? at + 1 : at - 1;
    if (sibling < level.length)
      siblings.push({ hash: toHex(level[sibling]!), position: at % 2 === 0 ? 'right' : 'left' });
    at = Math.floor(at / 2);
  }
  return { leafIndex, siblings };
}

/**
 * Where leaf `leafIndex`'s proof siblings sit in a tree of `leafCount` leaves (level 0: the leaves'
 * hashes), known from the count alone: a kept tree answers a proof with one read per position, and
 * `proofFromHashes` turns the hashes read into the same proof `proofFromLevels` gives.
 */
export function proofPositions(options: {
  leafCount: number;
  leafIndex: number;
}): Array<{ level: number; index: number; position: 'left' | 'right' }> {
  const out: Array<{ level: number; index: number; position: 'left' | 'right' }> = [];
  let at = options.leafIndex;
  // Level lengths halve, rounded up (an odd last node is promoted), until the root's level of one.
  for (let level = 0, length = options.leafCount; length > 1; level++, length = Math.ceil(length / 2)) {
    const sibling = at % 2 === 0 ? at + 1 : at - 1;
    if (sibling < length) out.push({ level, index: sibling, position: at % 2 === 0 ? 'right' : 'left' });
    at = Math.floor(at / 2);
  }
  return out;
}

/** The proof from `proofPositions` and the hashes read at them, in the same order. */
export function proofFromHashes(options: {
  leafIndex: number;
  positions: ReadonlyArray<{ position: 'left' | 'right' }>;
  hashes: readonly Uint8Array[];
}): MerkleProof {
  return {
    leafIndex: options.leafIndex,
    siblings: options.positions.map((p, i) => ({ hash: toHex(options.hashes[i]!), position: p.position })),
  };
}

/** Root and every leaf's proof in one pass. */
export async function buildMerkleTree(
  leaves: readonly Uint8Array[],
): Promise<{ root: string; proofs: MerkleProof[] }> {
  if (leaves.length === 0) return { root: toHex(await sha256(new Uint8Array(0))), proofs: [] };
  const levels = await buildMerkleLevels(leaves);
  return { root: rootOfLevels(levels), proofs: leaves.map((_, i) => proofFromLevels(levels, i)) };
}

export async function merkleRoot(leaves: readonly Uint8Array[]): Promise<string> {
  return (await buildMerkleTree(leaves)).root;
}

/** True when `leaf` (the entry's bytes, e.g. its canonical JSON) is in the tree with root `root`. */
export async function verifyMerkleProof(options: {
  leaf: Uint8Array;
  proof: MerkleProof;
  root: string;
}): Promise<boolean> {
  const { leaf, proof, root } = options;
  if (!proof || !Array.isArray(proof.siblings)) return false;
  let hash = await merkleLeafHash(leaf);
  for (const step of proof.siblings) {
    const sibling = fromHex(step?.hash);
    if (!sibling) return false;
    if (step.position === 'left') hash = await nodeHash(sibling, hash);
    else if (step.position === 'right') hash = await nodeHash(hash, sibling);
    else return false;
  }
  return toHex(hash) === root;
}
