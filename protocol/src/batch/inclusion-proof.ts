/**
 * Checking an inclusion proof (RFC 9162 §2.1.3.2) against the batch tree merkle.ts builds, optionally
 * with a verifier's memo of inner nodes already hashed (by pair, or by position in a claimed tree).
 */
import { sha256Hex, type Sha256Hex } from '../encoding.ts';
import {
  HEX_PATTERN,
  MAX_BATCH_LEAVES,
  MAX_PROOF_HASHES,
  merkleNodeHash,
  type InnerNodeMemo,
  type TreeNodes,
} from './merkle.ts';

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
    const walked = walkTree(proof, sha256, memo, tree, index, count - 1, leafHash);
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
function walkTree(
  proof: readonly string[],
  sha256: Sha256Hex,
  memo: InnerNodeMemo,
  tree: TreeNodes,
  index: number,
  lastIndex: number,
  leafHash: string,
): InclusionResult | undefined {
  // Positional (no state object per proof): called for every leaf a verifier with a memo checks.
  let fn = index;
  let sn = lastIndex;
  let r = leafHash;
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
