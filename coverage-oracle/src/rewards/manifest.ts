import {
  bytesToBase64Url,
  base64UrlToBytes,
  canonicalBytes,
  importPublicKey,
  SIGNATURE_PATTERN,
  type NodeKeyPair,
} from '@hexedge/protocol';
import {
  buildMerkleLevels,
  buildMerkleTree,
  proofFromLevels,
  rootOfLevels,
  verifyMerkleProof,
  type MerkleProof,
} from './merkle.ts';
import type { RewardEntry, RewardShares } from './epoch-rewards.ts';

/**
 * A reward manifest: the epoch's entries (sorted by node id), the Merkle root over their canonical
 * JSON, the log root it follows, and the sampling seed used in the epoch (with the commitment to the
 * next). Its bytes are canonical JSON and Ed25519 signatures are deterministic, so the same inputs
 * and key give byte-identical output.
 */
export interface RewardManifest {
  version: 1;
  oracleId: string;
  epoch: number;
  startMs: number;
  endMs: number;
  poolBaseUnits: string;
  shares: RewardShares;
  unallocatedBaseUnits: string;
  merkleRoot: string;
  prevLogRoot: string;
  samplingSeed?: string;
  nextSamplingSeedCommitment?: string;
  entries: RewardEntry[];
}

export interface SignedRewardManifest {
  manifest: RewardManifest;
  signature: string;
}

/** Domain tag: a manifest signature can never pass as any protocol message's signature, or vice versa. */
const MANIFEST_TAG = new TextEncoder().encode('hexedge/v1/reward-manifest\n');

function signedBytes(manifest: RewardManifest): Uint8Array {
  const body = canonicalBytes(manifest);
  const out = new Uint8Array(MANIFEST_TAG.length + body.length);
  out.set(MANIFEST_TAG, 0);
  out.set(body, MANIFEST_TAG.length);
  return out;
}

/** The bytes a reward entry contributes to the Merkle tree (its canonical JSON). */
export function rewardEntryBytes(entry: RewardEntry): Uint8Array {
  return canonicalBytes(entry);
}

export async function buildRewardManifest(options: {
  oracle: NodeKeyPair;
  epoch: number;
  startMs: number;
  endMs: number;
  poolBaseUnits: bigint;
  shares: RewardShares;
  entries: readonly RewardEntry[];
  unallocatedBaseUnits: bigint;
  prevLogRoot: string;
  samplingSeed?: string;
  nextSamplingSeedCommitment?: string;
}): Promise<{
  signed: SignedRewardManifest;
  bytes: Uint8Array;
  proofs: Map<string, MerkleProof>;
  /** The tree's levels (leaf hashes first), what the store keeps so proofs never rebuild it. */
  levels: Uint8Array[][];
}> {
  const entries = [...options.entries].sort((a, b) =>
    a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0,
  );
  const levels = await buildMerkleLevels(entries.map(rewardEntryBytes));
  const manifest: RewardManifest = {
    version: 1,
    oracleId: options.oracle.nodeId,
    epoch: options.epoch,
    startMs: options.startMs,
    endMs: options.endMs,
    poolBaseUnits: options.poolBaseUnits.toString(),
    shares: { ...options.shares },
    unallocatedBaseUnits: options.unallocatedBaseUnits.toString(),
    merkleRoot: rootOfLevels(levels),
    prevLogRoot: options.prevLogRoot,
    ...(options.samplingSeed ? { samplingSeed: options.samplingSeed } : {}),
    ...(options.nextSamplingSeedCommitment
      ? { nextSamplingSeedCommitment: options.nextSamplingSeedCommitment }
      : {}),
    entries,
  };
  const signature = await crypto.subtle.sign(
    { name: 'Ed25519' },
    options.oracle.privateKey,
    signedBytes(manifest) as BufferSource,
  );
  const signed: SignedRewardManifest = { manifest, signature: bytesToBase64Url(new Uint8Array(signature)) };
  const proofs = new Map(entries.map((e, i) => [e.nodeId, proofFromLevels(levels, i)]));
  return { signed, bytes: canonicalBytes(signed), proofs, levels };
}

/** True when the manifest is signed by its `oracleId` and its Merkle root is the root of its entries. */
export async function verifyRewardManifest(
  signed: SignedRewardManifest,
  expectedOracleId?: string,
): Promise<boolean> {
  try {
    const { manifest } = signed;
    if (expectedOracleId !== undefined && manifest.oracleId !== expectedOracleId) return false;
    if (typeof signed.signature !== 'string' || !SIGNATURE_PATTERN.test(signed.signature)) return false;
    const key = await importPublicKey(manifest.oracleId);
    const ok = await crypto.subtle.verify(
      { name: 'Ed25519' },
      key,
      base64UrlToBytes(signed.signature) as BufferSource,
      signedBytes(manifest) as BufferSource,
    );
    if (!ok) return false;
    const tree = await buildMerkleTree(manifest.entries.map(rewardEntryBytes));
    return tree.root === manifest.merkleRoot;
  } catch {
    return false;
  }
}

/** What a node checks with only its own entry, its proof and the signed root. */
export function verifyRewardEntry(options: {
  entry: RewardEntry;
  proof: MerkleProof;
  merkleRoot: string;
}): Promise<boolean> {
  return verifyMerkleProof({
    leaf: rewardEntryBytes(options.entry),
    proof: options.proof,
    root: options.merkleRoot,
  });
}
