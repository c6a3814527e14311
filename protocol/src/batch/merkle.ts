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

const HEX_PATTERN = /^[0-9a-f]{64}$/;

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

/** How many hashes the audit path of leaf `index` in a tree of `count` leaves holds (RFC 9162's walk, without hashing). */
export function inclusionProofLength(index: number, count: number): number {
  let length = 0;
  let fn = index;
  let sn = count - 1;
  while (sn > 0) {
    if (fn % 2 === 0 && fn === sn) {
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    }
    length++;
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return length;
}

export type InclusionFault = 'INDEX_OUT_OF_RANGE' | 'PROOF_LENGTH' | 'PROOF_MALFORMED';

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or why it leads nowhere: an index outside
 * the tree, a proof of the wrong length for (index, count) — so no proof is longer than the tree is
 * deep — or an entry that is not a hex SHA-256. The caller compares the result with the signed root.
 */
export async function rootFromInclusionProof(options: InclusionProofOptions): Promise<InclusionResult> {
  return inclusionProofRoot(options);
}

export interface InclusionProofOptions {
  leafHash: string;
  index: number;
  count: number;
  proof: readonly string[];
  sha256?: Sha256Hex;
  memo?: InnerNodeMemo | undefined;
  /** With `memo`: the root the caller will compare the result with, so nodes are looked up by position in that tree. */
  root?: string | undefined;
}
export type InclusionResult = { root: string } | { fault: InclusionFault };

/**
 * `rootFromInclusionProof`, synchronous when `sha256` is (node:crypto's): a verifier checking
 * thousands of leaves a second pays no promise per proof or per node. Same checks, same results.
 */
export function inclusionProofRoot(
  options: InclusionProofOptions,
): InclusionResult | Promise<InclusionResult> {
  const { leafHash, index, count, proof, memo, root } = options;
  return inclusionProofRootOf(leafHash, index, count, proof, options.sha256 ?? sha256Hex, memo, root);
}

/**
 * `inclusionProofRoot` with its options as arguments: a verifier's per-leaf call (verifyBatchSignedNow)
 * builds no options object.
 */
export function inclusionProofRootOf(
  leafHash: string,
  index: number,
  count: number,
  proof: readonly string[],
  sha256: Sha256Hex,
  memo: InnerNodeMemo | undefined,
  root: string | undefined,
): InclusionResult | Promise<InclusionResult> {
  // The memo trusts its pairs as hex (see below): a leaf hash is the caller's own computation, checked
  // here — by walkTree only where it is not equal to a remembered (so checked) hash.
  const byPosition = memo !== undefined && typeof root === 'string';
  if (memo && !byPosition) assertHexLeaf(leafHash);
  const fault = shapeFault(index, count, proof);
  if (fault) {
    if (byPosition) assertHexLeaf(leafHash);
    return { fault };
  }
  if (byPosition) {
    const tree = memo.treeOf(root, count);
    const walked = walkTree({ proof, sha256, memo, tree, fn: index, sn: count - 1, r: leafHash });
    if (walked !== undefined) return walked;
    assertHexLeaf(leafHash); // An asynchronous hash: `walk` below relies on the leaf being checked.
  }
  return walk({ proof, sha256, memo, at: 0, fn: index, sn: count - 1, r: leafHash });
}

function shapeFault(index: number, count: number, proof: readonly string[]): InclusionFault | undefined {
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_BATCH_LEAVES) return 'INDEX_OUT_OF_RANGE';
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) return 'INDEX_OUT_OF_RANGE';
  if (proof.length > MAX_PROOF_HASHES || proof.length !== inclusionProofLength(index, count))
    return 'PROOF_LENGTH';
  return undefined;
}

function assertHexLeaf(leafHash: string): void {
  if (!HEX_PATTERN.test(leafHash))
    throw new TypeError(
      `rootFromInclusionProof: leafHash ${JSON.stringify(leafHash.slice(0, 80))} is not a hex SHA-256`,
    );
}

/**
 * `walk` with a claimed tree's nodes looked up by position (sn, fn after each step: unique within a
 * tree of `count` leaves). Synchronous: undefined, for `walk` to do it all again, if the hash is not.
 */
function walkTree(state: {
  proof: readonly string[];
  sha256: Sha256Hex;
  memo: InnerNodeMemo;
  tree: TreeNodes;
  fn: number;
  sn: number;
  r: string;
}): InclusionResult | undefined {
  const { proof, sha256, memo, tree } = state;
  let { fn, sn, r } = state;
  // The leaf is checked as hex unless it equals a remembered child (checked when that was hashed).
  if (proof.length === 0) assertHexLeaf(r);
  for (let at = 0; at < proof.length; at++) {
    const p = proof[at];
    if (typeof p !== 'string' || sn === 0) {
      if (at === 0) assertHexLeaf(r);
      return { fault: typeof p !== 'string' ? 'PROOF_MALFORMED' : 'PROOF_LENGTH' };
    }
    let left = r;
    let right = p;
    if (fn % 2 === 1 || fn === sn) {
      left = p;
      right = r;
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
    const position = sn * (MAX_BATCH_LEAVES + 1) + fn;
    // A remembered pair was checked as hex when it was first hashed.
    const known = tree.get(position);
    if (known !== undefined && known.left === left && known.right === right) {
      r = known.parent;
      continue;
    }
    if (at === 0) assertHexLeaf(r);
    if (!HEX_PATTERN.test(p)) return { fault: 'PROOF_MALFORMED' };
    const h = merkleNodeHash(left, right, sha256);
    if (typeof h !== 'string') return undefined;
    memo.added(tree, position, { left, right, parent: h });
    r = h;
  }
  if (sn !== 0) return { fault: 'PROOF_LENGTH' };
  return { root: r };
}

/** RFC 9162 §2.1.3.2's loop from proof entry `at` on; returns a promise only when a hash does. */
function walk(state: {
  proof: readonly string[];
  sha256: Sha256Hex;
  memo: InnerNodeMemo | undefined;
  at: number;
  fn: number;
  sn: number;
  r: string;
}): InclusionResult | Promise<InclusionResult> {
  const { proof, sha256, memo } = state;
  let { fn, sn, r } = state;
  for (let at = state.at; at < proof.length; at++) {
    const p = proof[at];
    if (typeof p !== 'string') return { fault: 'PROOF_MALFORMED' };
    if (sn === 0) return { fault: 'PROOF_LENGTH' };
    let left = r;
    let right = p;
    if (fn % 2 === 1 || fn === sn) {
      left = p;
      right = r;
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
    // A remembered pair was checked as hex when it was first hashed.
    const known = memo?.get(left, right);
    if (known !== undefined) {
      r = known;
      continue;
    }
    if (!HEX_PATTERN.test(p)) return { fault: 'PROOF_MALFORMED' };
    const h = merkleNodeHash(left, right, sha256);
    if (typeof h !== 'string') {
      const next = { ...state, at: at + 1, fn, sn };
      return h.then((parent) => {
        memo?.set(left, right, parent);
        return walk({ ...next, r: parent });
      });
    }
    memo?.set(left, right, h);
    r = h;
  }
  if (sn !== 0) return { fault: 'PROOF_LENGTH' };
  return { root: r };
}
