import { sha256Hex, type Sha256Hex } from '../encoding.ts';

/**
 * The Merkle tree a signer commits a batch of messages with: RFC 6962 §2.1 (Certificate
 * Transparency), so any CT library can check a proof. Domain-separated: leaf = SHA-256(0x00 ‖ leaf
 * bytes), inner node = SHA-256(0x01 ‖ left ‖ right), so an inner node can never be passed off as a
 * leaf (or the reverse). A tree of n leaves splits at the largest power of two below n; nothing is
 * duplicated, so two different leaf lists never share a root. Hashes travel as lowercase hex.
 */
export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;
/** Leaves one root may commit: 4096 answers is far past any batch or 5 ms slice a node forms. */
export const MAX_BATCH_LEAVES = 4096;
/** The longest inclusion proof a tree of MAX_BATCH_LEAVES leaves has: ⌈log2 4096⌉. */
export const MAX_PROOF_HASHES = 12;

export const HEX_PATTERN = /^[0-9a-f]{64}$/;

/** Lowercase hex digit → value (the inputs are checked or computed hex). */
const HEX_VALUE = new Uint8Array(128);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;

function hexToBytes(hex: string, out: Uint8Array, at: number): void {
  for (let i = 0; i < 32; i++)
    out[at + i] = (HEX_VALUE[hex.charCodeAt(i * 2)]! << 4) | HEX_VALUE[hex.charCodeAt(i * 2 + 1)]!;
}

/**
 * Inner-node hashes already computed, by left then right child (hex): a pure function's results, so
 * reusing them changes no verdict. The leaves of one batch share their upper nodes, so a verifier that
 * keeps them hashes about two nodes per leaf instead of the whole path. Cleared when full.
 */
export class InnerNodeMemo {
  readonly #max: number;
  // Two levels rather than one key `left + right`: no 128-character string built per lookup.
  readonly #nodes = new Map<string, Map<string, string>>();
  /** The same kind of pairs, per claimed tree (root, leaf count), by position: see treeOf. */
  readonly #trees = new Map<string, { count: number; nodes: TreeNodes }>();
  #size = 0;

  constructor(options: { maxNodes?: number } = {}) {
    this.#max = Math.max(1, options.maxNodes ?? 16_384);
  }

  get(left: string, right: string): string | undefined {
    return this.#nodes.get(left)?.get(right);
  }

  set(left: string, right: string, parent: string): void {
    this.#room();
    let rights = this.#nodes.get(left);
    if (!rights) this.#nodes.set(left, (rights = new Map()));
    if (!rights.has(right)) this.#size++;
    rights.set(right, parent);
  }

  /**
   * The pairs remembered for the tree a message claims (its signed root and leaf count), by position:
   * one lookup of the root per proof, then a number-keyed lookup and two string comparisons per level
   * instead of two lookups by 64-character hashes. Still a pure function's results: a pair is used only
   * when both children equal the remembered ones, so a false claim of a root only misses.
   */
  treeOf(root: string, count: number): TreeNodes {
    let tree = this.#trees.get(root);
    if (tree?.count !== count) {
      this.#room();
      this.#size++;
      this.#trees.set(root, (tree = { count, nodes: new Map() }));
    }
    return tree.nodes;
  }

  /** Counts a pair remembered in a tree from treeOf (clearing everything first when full). */
  added(tree: TreeNodes, position: number, pair: TreeNode): void {
    if (this.#size >= this.#max) {
      this.#clear();
      return;
    }
    if (!tree.has(position)) this.#size++;
    tree.set(position, pair);
  }

  #room(): void {
    if (this.#size >= this.#max) this.#clear();
  }

  #clear(): void {
    this.#nodes.clear();
    this.#trees.clear();
    this.#size = 0;
  }
}

/** An inner node of a claimed tree: the children hashed at its position and their parent. */
export interface TreeNode {
  left: string;
  right: string;
  parent: string;
}
/** A claimed tree's inner nodes by position (InnerNodeMemo.treeOf). */
export type TreeNodes = Map<number, TreeNode>;

/** SHA-256(0x00 ‖ leaf), hex. */
export function merkleLeafHash(leaf: Uint8Array, sha256: Sha256Hex = sha256Hex): string | Promise<string> {
  const input = new Uint8Array(leaf.length + 1);
  input[0] = LEAF_PREFIX;
  input.set(leaf, 1);
  return sha256(input);
}

/** SHA-256(0x01 ‖ left ‖ right), hex, for two hex hashes. */
export function merkleNodeHash(
  left: string,
  right: string,
  sha256: Sha256Hex = sha256Hex,
): string | Promise<string> {
  // node:crypto's one-shot hash (marked by `utf8`) reads its input before returning: one shared buffer.
  const input = sha256.utf8 ? NODE_INPUT : new Uint8Array(65);
  input[0] = NODE_PREFIX;
  hexToBytes(left, input, 1);
  hexToBytes(right, input, 33);
  return sha256(input);
}
const NODE_INPUT = new Uint8Array(65);

/** The largest power of two strictly below n (n ≥ 2): where RFC 6962 splits a tree. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The root over leaf hashes (hex) and each leaf's audit path (sibling hashes, bottom up), RFC 6962
 * §2.1.1: n − 1 inner hashes for n leaves.
 */
export async function buildMerkleTree(
  leafHashes: readonly string[],
  sha256: Sha256Hex = sha256Hex,
): Promise<{ root: string; proofs: string[][] }> {
  if (leafHashes.length === 0 || leafHashes.length > MAX_BATCH_LEAVES)
    throw new RangeError(`a batch tree holds 1 to ${MAX_BATCH_LEAVES} leaves, got ${leafHashes.length}`);
  const proofs: string[][] = leafHashes.map(() => []);
  const build = async (lo: number, hi: number): Promise<string> => {
    if (hi - lo === 1) return leafHashes[lo]!;
    const k = splitPoint(hi - lo);
    const left = await build(lo, lo + k);
    const right = await build(lo + k, hi);
    for (let i = lo; i < lo + k; i++) proofs[i]!.push(right);
    for (let i = lo + k; i < hi; i++) proofs[i]!.push(left);
    const h = merkleNodeHash(left, right, sha256);
    return typeof h === 'string' ? h : await h;
  };
  return { root: await build(0, leafHashes.length), proofs };
}

export {
  inclusionProofLength,
  inclusionProofRoot,
  inclusionProofRootOf,
  rootFromInclusionProof,
  type InclusionFault,
  type InclusionProofOptions,
  type InclusionResult,
} from './inclusion-proof.ts';
